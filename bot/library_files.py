"""Runbooks and playbooks read from LIBRARY_DIR (a git checkout, usually) at start-up.

Each `.md` file starts with YAML front matter (`---` lines) and its body is the runbook's steps (or a
playbook's description); a `.yaml`/`.yml` file is the same mapping with the body under `body`.
`kind: runbook` takes `service`, `title`, and optionally `workflow`, `inputs` and `alertnames`;
`kind: playbook` takes `name` and a PlaybookSpec (`description`, `inputs`, `target`, `steps`,
`rollback`). Each row records the file's version: the last git commit of the file when it is
committed and unchanged, else `sha256:` and the start of its content's hash. A bad file stops
start-up with one line naming the file and the field. The rows belong to every workspace
(library.FILES_TEAM) and replace what earlier start-ups read.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot import library, names, playbooks, runbooks
from bot.clock import utcnow
from bot.db.home_models import Playbook, Runbook, RunbookAlert
from bot.errors import CarapulseError, ConfigError
from bot.playbooks import PlaybookSpec
from bot.runbooks import RunbookDraft
from bot.validation import first_error
from bot.workflows.catalog import Catalog
from tools.common.base import ToolError
from tools.common.runner import CliRunner, value

SUFFIXES = (".md", ".yaml", ".yml")
GIT_TIME_LIMIT = 10.0
# Who the audit and the rows name as having saved what start-up read.
LOADER = "library-files"
# Any 64-bit number peculiar to this loader: replicas starting at once sync one after the other.
_SYNC_LOCK = 0x6361726170756C73


@dataclass(frozen=True)
class RunbookFile:
    source: str
    version: str
    draft: RunbookDraft


@dataclass(frozen=True)
class PlaybookFile:
    source: str
    version: str
    name: str
    spec: PlaybookSpec


@dataclass(frozen=True)
class Library:
    runbooks: Sequence[RunbookFile]
    playbooks: Sequence[PlaybookFile]


EMPTY = Library(runbooks=(), playbooks=())


async def load(directory: Path, *, catalog: Catalog) -> Library:
    """Read and check every file under `directory` (hidden folders such as .git left out)."""
    paths = await asyncio.to_thread(_paths, directory)
    versions = await _Versions.of(directory)
    found_runbooks: list[RunbookFile] = []
    found_playbooks: list[PlaybookFile] = []
    for path in paths:
        source = str(path.relative_to(directory))
        content = _read(path, source)
        fields = _fields(content, path.suffix, source)
        version = await versions.version(path, content)
        kind = fields.pop("kind", None)
        if kind == "runbook":
            found_runbooks.append(RunbookFile(source, version, _runbook(fields, source, catalog)))
        elif kind == "playbook":
            name, spec = _playbook(fields, source)
            found_playbooks.append(PlaybookFile(source, version, name, spec))
        else:
            raise ConfigError(f"library file {source}: kind: must be runbook or playbook")
    _check_unique(found_runbooks, found_playbooks)
    return Library(runbooks=found_runbooks, playbooks=found_playbooks)


async def sync(session: AsyncSession, library_files: Library) -> None:
    """Make the rows read from files exactly what `library_files` holds, keeping the ids of rows
    whose file (runbooks) or name (playbooks) is still there."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SYNC_LOCK})
    now = utcnow()
    await session.execute(delete(RunbookAlert).where(RunbookAlert.team_id == library.FILES_TEAM))
    existing = {
        row.source: row
        for row in (await session.scalars(select(Runbook).where(Runbook.team_id == library.FILES_TEAM))).all()
    }
    for found in library_files.runbooks:
        row = existing.pop(found.source, None)
        if row is None:
            row = Runbook(team_id=library.FILES_TEAM, source=found.source, created_at=now)
            session.add(row)
        row.version = found.version
        try:
            await runbooks.store(
                session, row, found.draft, team_id=library.FILES_TEAM, updated_by=LOADER, now=now
            )
        except CarapulseError as exc:
            raise ConfigError(f"library file {found.source}: {exc.message}") from None
    for gone in existing.values():
        await session.delete(gone)
    named = {
        row.name: row
        for row in (
            await session.scalars(select(Playbook).where(Playbook.team_id == library.FILES_TEAM))
        ).all()
    }
    for found_playbook in library_files.playbooks:
        playbook = named.pop(found_playbook.name, None)
        if playbook is None:
            playbook = Playbook(team_id=library.FILES_TEAM, name=found_playbook.name, created_at=now)
            session.add(playbook)
        playbook.spec = found_playbook.spec.model_dump(mode="json")
        playbook.source, playbook.version = found_playbook.source, found_playbook.version
        playbook.updated_by, playbook.updated_at = LOADER, now
    for gone_playbook in named.values():
        await session.delete(gone_playbook)
    await session.flush()


def _paths(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise ConfigError(f"LIBRARY_DIR: {directory} is not a directory")
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file()
        and path.suffix in SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
    )


def _read(path: Path, source: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"library file {source}: cannot be read: {exc}") from None


def _fields(content: str, suffix: str, source: str) -> dict[str, Any]:
    """The file's mapping; for Markdown, its front matter with the rest of the file as `body`."""
    body = None
    if suffix == ".md":
        lines = content.splitlines()
        if not lines or lines[0].strip() != "---" or "---" not in (line.strip() for line in lines[1:]):
            raise ConfigError(f"library file {source}: must start with front matter between `---` lines")
        end = next(n for n, line in enumerate(lines[1:], 1) if line.strip() == "---")
        content, body = "\n".join(lines[1:end]), "\n".join(lines[end + 1 :]).strip()
    try:
        fields = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        raise ConfigError(f"library file {source}: not YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(fields, dict):
        raise ConfigError(f"library file {source}: must be a mapping with `kind`")
    if body:
        fields.setdefault("body", body)
    return fields


def _runbook(fields: dict[str, Any], source: str, catalog: Catalog) -> RunbookDraft:
    try:
        draft = RunbookDraft.model_validate(fields)
    except ValidationError as exc:
        raise ConfigError(f"library file {source}: {first_error(exc)}") from None
    except CarapulseError as exc:
        raise ConfigError(f"library file {source}: service: {exc.message}") from None
    try:
        draft.check_workflow(catalog)
    except CarapulseError as exc:
        raise ConfigError(f"library file {source}: workflow: {exc.message}") from None
    return draft


def _playbook(fields: dict[str, Any], source: str) -> tuple[str, PlaybookSpec]:
    try:
        name = names.playbook(str(fields.pop("name", "")))
    except CarapulseError as exc:
        raise ConfigError(f"library file {source}: name: {exc.message}") from None
    body = fields.pop("body", None)
    if body and "description" not in fields:
        fields["description"] = body
    try:
        return name, playbooks.checked_spec(fields)
    except CarapulseError as exc:
        raise ConfigError(f"library file {source}: {exc.message}") from None


def _check_unique(found_runbooks: Sequence[RunbookFile], found_playbooks: Sequence[PlaybookFile]) -> None:
    seen: dict[tuple[str, ...], str] = {}
    for runbook in found_runbooks:
        keys = [("title", runbook.draft.service, runbook.draft.title)]
        keys += [("alert", runbook.draft.service, alertname) for alertname in runbook.draft.alertnames]
        for key in keys:
            if key in seen:
                what = f"title “{key[2]}”" if key[0] == "title" else f"alertnames: {key[2]}"
                raise ConfigError(
                    f"library file {runbook.source}: {what} of {key[1]} is already in {seen[key]}"
                )
            seen[key] = runbook.source
    for playbook in found_playbooks:
        key = ("playbook", playbook.name)
        if key in seen:
            raise ConfigError(
                f"library file {playbook.source}: name: {playbook.name} is already in {seen[key]}"
            )
        seen[key] = playbook.source


class _Versions:
    """A file's last git commit when git knows it as committed, else the hash of its content."""

    def __init__(self, git: CliRunner | None, directory: Path) -> None:
        self._git = git
        self._directory = directory

    @classmethod
    async def of(cls, directory: Path) -> _Versions:
        try:
            git = CliRunner.resolve(["git"])
        except ToolError:
            return cls(None, directory)
        inside = await git.run(
            "git", ["rev-parse", "--is-inside-work-tree"], time_limit=GIT_TIME_LIMIT, cwd=directory
        )
        return cls(git if inside.ok and inside.stdout.strip() == "true" else None, directory)

    async def version(self, path: Path, content: str) -> str:
        if self._git is not None:
            # "./" keeps a file named like an option a path.
            relative = value(f"./{path.relative_to(self._directory)}")
            last = await self._git.run(
                "git",
                ["log", "-1", "--format=%H", "--", relative],
                time_limit=GIT_TIME_LIMIT,
                cwd=self._directory,
            )
            if not last.ok:
                raise ConfigError(f"LIBRARY_DIR: {last.failure('git').message}")
            changed = await self._git.run(
                "git",
                ["diff", "--quiet", "HEAD", "--", relative],
                time_limit=GIT_TIME_LIMIT,
                cwd=self._directory,
            )
            if last.stdout.strip() and changed.exit_code == 0:
                return last.stdout.strip()
        return "sha256:" + hashlib.sha256(content.encode()).hexdigest()[:16]
