"""Values for `helm upgrade`: inline YAML from the step, and a file read from a git repository at a
revision (`repo@rev:path`), plus the check every values document passes (`values_s3` reads the third
source). `value_files` writes them all into the run's private working directory as `--values` files,
never through stdout, so the runner's redaction cannot alter them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from tools.common.base import ToolError
from tools.common.runner import CliRunner, value

GIT_CHECKOUT = "values-repo"
# The transports git may use for a values repository; `ext::` (runs a command) is never among them.
GIT_PROTOCOLS = "https:ssh:file"
_MAX_INLINE_BYTES = 64 * 1024
_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9._-]*"
_GIT_REF = re.compile(
    rf"^(?P<repo>\S+)@(?P<rev>{_SEGMENT}(?:/{_SEGMENT})*):(?P<path>{_SEGMENT}(?:/{_SEGMENT})*)$"
)


def check_values_document(text: str) -> None:
    """Helm merges each values file into the chart's values as a map, so a list, a scalar or broken YAML
    is refused here (ValueError) rather than by helm after the plan was approved. ruamel is imported
    here, on the first values checked: the workflow catalog imports this module at start-up."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        loaded = YAML(typ="safe").load(text)
    except YAMLError as error:
        problem = getattr(error, "problem", None) or "cannot be parsed"
        raise ValueError(f"values are not valid YAML: {problem}") from None
    if not isinstance(loaded, dict):
        raise ValueError("values must be a YAML mapping of keys to values")


def _check_inline(text: str) -> str:
    check_values_document(text)
    return text


def _check_git_ref(text: str) -> str:
    GitValuesRef.parse(text)
    return text


InlineValues = Annotated[str, StringConstraints(max_length=_MAX_INLINE_BYTES), AfterValidator(_check_inline)]
GitValues = Annotated[str, StringConstraints(max_length=1024), AfterValidator(_check_git_ref)]


@dataclass(frozen=True)
class GitValuesRef:
    repo: str
    rev: str
    path: str

    @classmethod
    def parse(cls, text: str) -> GitValuesRef:
        """`repo@rev:path`, where the repository may itself hold '@' and ':' (git@host:org/repo.git)
        but the revision and the path hold neither, and the path never climbs out with '..'."""
        match = _GIT_REF.match(text)
        if match is None:
            raise ValueError("values_git must look like <repository>@<revision>:<path>")
        if ".." in match["path"].split("/"):
            raise ValueError("values_git path must stay inside the repository")
        return cls(repo=match["repo"], rev=match["rev"], path=match["path"])

    def __str__(self) -> str:
        return f"{self.repo}@{self.rev}:{self.path}"


@dataclass(frozen=True)
class GitValuesFile:
    """A fetched values file: its path relative to the working directory, and the commit it came from."""

    path: str
    ref: GitValuesRef
    commit: str

    def as_data(self) -> dict[str, str]:
        return {"ref": str(self.ref), "commit": self.commit}


@dataclass(frozen=True)
class GitValuesSource:
    """Reads one file at one revision with a shallow fetch, from repositories the operator allowed."""

    runner: CliRunner
    allowed_prefixes: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    time_limit: float = 120.0

    async def fetch(self, ref: GitValuesRef, workdir: Path) -> GitValuesFile:
        if not any(_covers(prefix, ref.repo) for prefix in self.allowed_prefixes):
            message = f"values_git: repository {ref.repo} is not listed in HELM_VALUES_GIT_REPOS"
            raise ToolError(message, call="values_git")
        await self._git(ref, ["init", "--quiet", GIT_CHECKOUT], workdir)
        fetch = ["fetch", "--quiet", "--depth=1", value(ref.repo), value(ref.rev)]
        await self._git(ref, ["-C", GIT_CHECKOUT, *fetch], workdir)
        await self._git(
            ref, ["-C", GIT_CHECKOUT, "checkout", "--quiet", "FETCH_HEAD", "--", value(ref.path)], workdir
        )
        checkout = (workdir / GIT_CHECKOUT).resolve()
        file = workdir / GIT_CHECKOUT / ref.path
        # A symlink in the repository could point helm at any file on this host.
        if file.is_symlink() or not file.is_file() or not file.resolve().is_relative_to(checkout):
            raise ToolError(f"values_git {ref}: {ref.path} is not a regular file", call="values_git")
        # The commit, not a tag object: what a plan pins and compares when the upgrade runs.
        commit = await self._git(ref, ["-C", GIT_CHECKOUT, "rev-parse", "FETCH_HEAD^{commit}"], workdir)
        return GitValuesFile(path=f"{GIT_CHECKOUT}/{ref.path}", ref=ref, commit=commit.strip())

    async def _git(self, ref: GitValuesRef, args: list[str], workdir: Path) -> str:
        env = {"GIT_TERMINAL_PROMPT": "0", "GIT_ALLOW_PROTOCOL": GIT_PROTOCOLS, **self.env}
        result = await self.runner.run("git", args, time_limit=self.time_limit, env=env, cwd=workdir)
        if not result.ok:
            failure = result.failure("git")
            raise ToolError(f"values_git {ref}: {failure.message}", call=failure.call, status=failure.status)
        return result.stdout


def _covers(prefix: str, repo: str) -> bool:
    """`https://git.example/team` covers `https://git.example/team/app.git`, not `.../team-b/app.git`,
    and never a URL that climbs out of the prefix with `..`."""
    if "/../" in f"{repo}/":
        return False
    if repo == prefix:
        return True
    if not repo.startswith(prefix):
        return False
    return prefix.endswith(("/", ":")) or repo[len(prefix)] == "/"
