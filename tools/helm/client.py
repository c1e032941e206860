"""The `helm` CLI behind a small async API: exact argv built from checked values, JSON output read into
typed records, and helm's own error sentences turned into ToolErrors a person can act on."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tools.common.base import ToolError
from tools.common.cli_tool import parse_json, shape_error
from tools.common.runner import CliRunner, CommandResult, option, value

# What helm 3 writes to stderr for every command that names a release it does not have.
_NOT_FOUND = "release: not found"
T = TypeVar("T")


class ReleaseNotFound(ToolError):
    pass


@dataclass(frozen=True)
class ReleaseRef:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Release:
    """A release as `helm status -o json` and `helm upgrade -o json` print it."""

    name: str
    namespace: str
    revision: int
    status: str
    description: str
    last_deployed: str
    # "nginx-15.4.2"; empty from `helm status`, which strips the chart from its output.
    chart: str
    app_version: str
    manifest: str

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Release:
        info = raw["info"]
        metadata = (raw.get("chart") or {}).get("metadata") or {}
        return cls(
            name=raw["name"],
            namespace=raw["namespace"],
            revision=int(raw["version"]),
            status=info["status"],
            description=info.get("description", ""),
            last_deployed=info.get("last_deployed", ""),
            chart=f"{metadata['name']}-{metadata['version']}" if metadata else "",
            app_version=metadata.get("appVersion", ""),
            manifest=raw.get("manifest", ""),
        )


@dataclass(frozen=True)
class Revision:
    """One row of `helm history -o json`."""

    revision: int
    updated: str
    status: str
    chart: str
    app_version: str
    description: str

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Revision:
        return cls(
            revision=int(raw["revision"]),
            updated=raw["updated"],
            status=raw["status"],
            chart=raw["chart"],
            app_version=raw["app_version"],
            description=raw["description"],
        )


@dataclass(frozen=True)
class ListedRelease:
    """One row of `helm list -o json` (which prints the revision as a string)."""

    name: str
    namespace: str
    revision: int
    updated: str
    status: str
    chart: str
    app_version: str

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ListedRelease:
        return cls(
            name=raw["name"],
            namespace=raw["namespace"],
            revision=int(raw["revision"]),
            updated=raw["updated"],
            status=raw["status"],
            chart=raw["chart"],
            app_version=raw["app_version"],
        )


@dataclass(frozen=True)
class Wait:
    """How a write waits: `--wait` for resources to be ready, and helm's own `--timeout`. The process
    gets `margin` seconds beyond that before the runner kills it, so helm reports its own timeout."""

    enabled: bool
    timeout_seconds: int
    margin: float = 30.0

    def flags(self, *, dry_run: bool) -> list[str]:
        wait = ["--wait"] if self.enabled and not dry_run else []
        return [*wait, option("--timeout", f"{self.timeout_seconds}s")]

    def time_limit(self, *, dry_run: bool) -> float | None:
        """None for a dry run: it only renders and reads, so the client's read limit applies."""
        return None if dry_run else self.timeout_seconds + self.margin


class HelmClient:
    """Every call runs `helm` with the same explicit environment (KUBECONFIG, HELM_KUBECONTEXT, …)."""

    def __init__(self, runner: CliRunner, *, env: Mapping[str, str], time_limit: float = 120.0) -> None:
        self._runner = runner
        self._env = dict(env)
        self._time_limit = time_limit

    @property
    def binary(self) -> Path:
        return self._runner.binaries["helm"]

    async def list_releases(self, namespace: str | None, *, limit: int, offset: int) -> list[ListedRelease]:
        scope = [option("--namespace", namespace)] if namespace else ["--all-namespaces"]
        args = ["list", *scope, "--all", option("--max", limit), option("--offset", offset), "--output=json"]
        result = await self._run(args)
        return _decode(result, lambda raw: [ListedRelease.from_json(row) for row in raw])

    async def status(self, ref: ReleaseRef) -> Release:
        result = await self._run(["status", value(ref.name), _namespace(ref), "--output=json"], ref=ref)
        return _decode(result, Release.from_json)

    async def history(self, ref: ReleaseRef, *, max_revisions: int = 256) -> list[Revision]:
        args = ["history", value(ref.name), _namespace(ref), option("--max", max_revisions), "--output=json"]
        result = await self._run(args, ref=ref)
        rows = _decode(result, lambda raw: [Revision.from_json(row) for row in raw])
        return sorted(rows, key=lambda row: row.revision)

    async def find_history(self, ref: ReleaseRef) -> list[Revision]:
        """The release's revisions, oldest first; empty when the release does not exist."""
        try:
            return await self.history(ref)
        except ReleaseNotFound:
            return []

    async def values(self, ref: ReleaseRef, *, revision: int | None, all_values: bool) -> dict[str, Any]:
        args = ["get", "values", value(ref.name), _namespace(ref), "--output=json"]
        if revision is not None:
            args.append(option("--revision", revision))
        if all_values:
            args.append("--all")
        result = await self._run(args, ref=ref)
        # A release installed without values prints `null`.
        return _decode(result, lambda raw: dict(raw or {}))

    async def upgrade(
        self,
        ref: ReleaseRef,
        chart: str,
        *,
        version: str | None,
        value_files: Sequence[str],
        reuse_values: bool,
        wait: Wait,
        dry_run: bool,
        cwd: Path,
    ) -> Release:
        """`helm upgrade --install`; value files are paths relative to `cwd`, later ones winning."""
        args = ["upgrade", value(ref.name), value(chart), "--install", _namespace(ref), "--output=json"]
        if version is not None:
            args.append(option("--version", version))
        args += [option("--values", path) for path in value_files]
        if reuse_values:
            args.append("--reuse-values")
        if dry_run:
            args.append("--dry-run")
        args += wait.flags(dry_run=dry_run)
        result = await self._run(args, ref=ref, time_limit=wait.time_limit(dry_run=dry_run), cwd=cwd)
        return _decode(result, Release.from_json)

    async def rollback(self, ref: ReleaseRef, revision: int, *, wait: Wait, dry_run: bool) -> None:
        args = ["rollback", value(ref.name), value(revision), _namespace(ref)]
        if dry_run:
            args.append("--dry-run")
        await self._run(
            [*args, *wait.flags(dry_run=dry_run)], ref=ref, time_limit=wait.time_limit(dry_run=dry_run)
        )

    async def uninstall(self, ref: ReleaseRef, *, wait: Wait, dry_run: bool) -> None:
        args = ["uninstall", value(ref.name), _namespace(ref)]
        if dry_run:
            args.append("--dry-run")
        await self._run(
            [*args, *wait.flags(dry_run=dry_run)], ref=ref, time_limit=wait.time_limit(dry_run=dry_run)
        )

    async def _run(
        self,
        args: list[str],
        *,
        ref: ReleaseRef | None = None,
        time_limit: float | None = None,
        cwd: Path | None = None,
    ) -> CommandResult:
        result = await self._runner.run(
            "helm", args, time_limit=time_limit or self._time_limit, env=self._env, cwd=cwd
        )
        if result.ok:
            return result
        if ref is not None and _NOT_FOUND in result.stderr:
            call = " ".join(result.argv[:2])
            raise ReleaseNotFound(f"helm release {ref} not found", call=call, status=result.exit_code)
        raise result.failure("helm")


def _namespace(ref: ReleaseRef) -> str:
    return option("--namespace", ref.namespace)


def _decode(result: CommandResult, read: Callable[[Any], T]) -> T:
    raw = parse_json(result, "helm")
    try:
        return read(raw)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise shape_error(result, "helm", f"{type(error).__name__}: {error}") from None
