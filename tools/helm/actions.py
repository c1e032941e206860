"""Helm actions: read a release (list, status, history, values, diff), upgrade it, roll it back and
uninstall it. Every write reads the release first, so its rollback is built from what was there before
it changed anything."""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tools.common.base import (
    Action,
    ActionResult,
    ArgsT,
    Effect,
    Rehearsed,
    RiskHint,
    RollbackStep,
    ToolError,
)
from tools.common.wording import count, listing
from tools.helm.args import (
    HistoryArgs,
    ListReleasesArgs,
    ReleaseArgs,
    RollbackArgs,
    UpgradeArgs,
    ValuesArgs,
    WaitArgs,
)
from tools.helm.client import HelmClient, Release, Revision
from tools.helm.diff import diff_manifests
from tools.helm.pins import latest_revision, require_revision, require_values
from tools.helm.value_files import StepValues, ValuesWriter

_WRITE_TIMEOUT = 2400.0  # above the largest helm --timeout the args accept, plus the reads around it


class _HelmAction(Action[ArgsT]):
    def __init__(self, client: HelmClient) -> None:
        self.client = client


class ListReleases(_HelmAction[ListReleasesArgs]):
    name = "helm.list_releases"
    description = "List helm releases in a namespace (or all namespaces), a page at a time."
    args_model = ListReleasesArgs
    effect = Effect.READ
    idempotent = True

    async def run(self, args: ListReleasesArgs) -> ActionResult:
        # One more than the page, to know whether another page follows.
        rows = await self.client.list_releases(args.namespace, limit=args.limit + 1, offset=args.offset)
        page = rows[: args.limit]
        where = f"in {args.namespace}" if args.namespace else "in all namespaces"
        shown = listing([f"{r.namespace}/{r.name} ({r.status}, revision {r.revision})" for r in page], 5)
        return ActionResult(
            summary=f"{count(len(page), 'release')} {where}" + (f": {shown}" if page else ""),
            data={
                "releases": [asdict(row) for row in page],
                "next_offset": args.offset + args.limit if len(rows) > args.limit else None,
            },
        )


class ReleaseStatus(_HelmAction[ReleaseArgs]):
    name = "helm.status"
    description = "Show a helm release's status, revision and last deployment time."
    args_model = ReleaseArgs
    effect = Effect.READ
    idempotent = True

    async def run(self, args: ReleaseArgs) -> ActionResult:
        release = await self.client.status(args.ref)
        deployed = release.last_deployed
        summary = f"{args.ref}: {release.status}, revision {release.revision}, last deployed {deployed}"
        return ActionResult(summary=summary, data=_release_data(release))


class ReleaseHistory(_HelmAction[HistoryArgs]):
    name = "helm.get_history"
    description = "List a helm release's revisions: chart, status and description of each."
    args_model = HistoryArgs
    effect = Effect.READ
    idempotent = True

    async def run(self, args: HistoryArgs) -> ActionResult:
        revisions = await self.client.history(args.ref, max_revisions=args.max_revisions)
        latest = revisions[-1]
        summary = (
            f"{args.ref}: {count(len(revisions), 'revision')}, latest {latest.revision} {latest.status} "
            f"({latest.chart}: {latest.description})"
        )
        data = {
            "namespace": args.namespace,
            "release": args.release,
            "revisions": [asdict(r) for r in revisions],
        }
        return ActionResult(summary=summary, data=data)


class ReleaseValues(_HelmAction[ValuesArgs]):
    name = "helm.get_values"
    description = "Show the values a helm release was installed with (all computed values on request)."
    args_model = ValuesArgs
    effect = Effect.READ
    idempotent = True

    async def run(self, args: ValuesArgs) -> ActionResult:
        values = await self.client.values(args.ref, revision=args.revision, all_values=args.all_values)
        kind = "computed" if args.all_values else "user-supplied"
        keys = f" ({listing(sorted(values), 10)})" if values else ""
        summary = f"{args.ref}: {count(len(values), f'top-level {kind} value')}{keys}"
        data = {
            "namespace": args.namespace,
            "release": args.release,
            "revision": args.revision,
            "values": values,
        }
        return ActionResult(summary=summary, data=data)


class _ChartAction(_HelmAction[UpgradeArgs]):
    """Renders or installs a chart with the step's values, in a private directory removed afterwards."""

    def __init__(self, client: HelmClient, values: ValuesWriter) -> None:
        super().__init__(client)
        self.values = values

    async def _upgrade(self, args: UpgradeArgs, *, dry_run: bool) -> tuple[Release, StepValues]:
        """The release helm printed, and the values it was given (which commit and S3 object version);
        values that moved since the plan pinned them stop it before helm runs."""
        with tempfile.TemporaryDirectory(prefix="carapulse-helm-") as directory:
            workdir = Path(directory)
            values = await self.values.write(
                workdir, inline=args.values, git_ref=args.values_git, s3_ref=args.values_s3
            )
            require_values(args, values)
            release = await self.client.upgrade(
                args.ref,
                args.chart,
                version=args.version,
                value_files=values.files,
                reuse_values=args.reuse_values,
                wait=args.waiting(),
                dry_run=dry_run,
                cwd=workdir,
            )
            return release, values

    async def _diff(self, args: UpgradeArgs) -> ActionResult:
        """`helm upgrade --install --dry-run` compared with the release's current manifest, with what a
        plan pins (the latest revision, the values' commit and object version) and the revision an
        upgrade's rollback would return to."""
        history = await self.client.find_history(args.ref)
        require_revision(args, history)
        current = await self.client.status(args.ref) if history else None
        rendered, values = await self._upgrade(args, dry_run=True)
        diff = diff_manifests(current.manifest if current else "", rendered.manifest)
        before = f"revision {latest_revision(history)}" if history else "not installed"
        previous = _deployed(history)
        return ActionResult(
            summary=f"{args.ref} ({before}) → {rendered.chart}: {diff.counts}",
            data={
                "namespace": args.namespace,
                "release": args.release,
                "chart": rendered.chart,
                "app_version": rendered.app_version,
                "current_revision": latest_revision(history) or None,
                "previous_revision": previous.revision if previous else None,
                "previous_chart": previous.chart if previous else None,
                **values.as_data(),
                **diff.as_data(),
            },
        )


class UpgradeDiff(_ChartAction):
    name = "helm.get_diff"
    description = "Show what `helm upgrade --install` would change in a release, resource by resource."
    args_model = UpgradeArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 600.0

    async def run(self, args: UpgradeArgs) -> ActionResult:
        return await self._diff(args)


class UpgradeRelease(Rehearsed, _ChartAction):
    name = "helm.upgrade"
    description = "Upgrade (or install) a helm release to a chart version with the given values."
    args_model = UpgradeArgs
    effect = Effect.WRITE
    timeout_seconds = _WRITE_TIMEOUT

    async def run(self, args: UpgradeArgs) -> ActionResult:
        history = await self.client.find_history(args.ref)
        require_revision(args, history)
        # With the revision pinned, this is the history the plan read, so the rollback returns to the
        # revision the plan named.
        previous = _deployed(history)
        release, values = await self._upgrade(args, dry_run=False)
        now = f"revision {release.revision} ({release.chart}, {release.status})"
        was = f"was revision {previous.revision} ({previous.chart})" if previous else "new install"
        return ActionResult(
            summary=f"upgraded {args.ref} to {now}; {was}",
            data={
                **_release_data(release),
                "previous_revision": previous.revision if previous else None,
                "previous_chart": previous.chart if previous else None,
                **values.as_data(),
            },
        )

    async def rehearse(self, args: UpgradeArgs) -> ActionResult:
        return await self._diff(args)

    def rollback(self, args: UpgradeArgs, result: ActionResult) -> RollbackStep:
        previous = result.data["previous_revision"]
        target = {"namespace": args.namespace, "release": args.release}
        if previous is None:
            description = f"uninstall {args.ref}, which did not exist before"
            return RollbackStep(action=UninstallRelease.name, args=target, description=description)
        description = f"roll {args.ref} back to revision {previous} ({result.data['previous_chart']})"
        return RollbackStep(
            action=RollbackRelease.name, args={**target, "revision": previous}, description=description
        )


class RollbackRelease(Rehearsed, _HelmAction[RollbackArgs]):
    name = "helm.rollback"
    description = "Roll a helm release back to a revision (default: the last good one before the current)."
    args_model = RollbackArgs
    effect = Effect.WRITE
    timeout_seconds = _WRITE_TIMEOUT

    async def run(self, args: RollbackArgs) -> ActionResult:
        current, target = await self._plan(args)
        await self.client.rollback(args.ref, target.revision, wait=args.waiting(), dry_run=False)
        after = await self.client.status(args.ref)
        return ActionResult(
            summary=(
                f"rolled {args.ref} back to revision {target.revision} ({target.chart}): "
                f"now revision {after.revision}, {after.status}"
            ),
            data={
                **_rollback_data(args, current, target),
                "revision": after.revision,
                "status": after.status,
            },
        )

    async def rehearse(self, args: RollbackArgs) -> ActionResult:
        current, target = await self._plan(args)
        await self.client.rollback(args.ref, target.revision, wait=args.waiting(), dry_run=True)
        summary = (
            f"would roll {args.ref} back from revision {current.revision} "
            f"to {target.revision} ({target.chart})"
        )
        return ActionResult(summary=summary, data=_rollback_data(args, current, target))

    def rollback(self, args: RollbackArgs, result: ActionResult) -> RollbackStep:
        revision = result.data["from_revision"]
        return RollbackStep(
            action=self.name,
            args={"namespace": args.namespace, "release": args.release, "revision": revision},
            description=f"roll {args.ref} forward again to revision {revision}",
        )

    async def _plan(self, args: RollbackArgs) -> tuple[Revision, Revision]:
        """The current revision and the one to return to, read before anything changes."""
        history = await self.client.history(args.ref)
        current = history[-1]
        if args.revision is None:
            earlier = [r for r in history[:-1] if r.status in ("superseded", "deployed")]
            if not earlier:
                raise ToolError(
                    f"{args.ref} has no earlier good revision to roll back to", call="helm history"
                )
            return current, earlier[-1]
        target = next((r for r in history if r.revision == args.revision), None)
        if target is None:
            known = ", ".join(str(r.revision) for r in history)
            raise ToolError(
                f"{args.ref} has no revision {args.revision} (it has {known})", call="helm history"
            )
        if target.revision == current.revision:
            raise ToolError(f"{args.ref} is already at revision {target.revision}", call="helm history")
        return current, target


class UninstallRelease(Rehearsed, _HelmAction[WaitArgs]):
    name = "helm.uninstall"
    description = "Uninstall a helm release and delete every resource it created."
    args_model = WaitArgs
    effect = Effect.WRITE
    risk = RiskHint.HIGH
    timeout_seconds = _WRITE_TIMEOUT

    async def apply(self, args: WaitArgs, *, dry_run: bool) -> ActionResult:
        release = await self.client.status(args.ref)
        await self.client.uninstall(args.ref, wait=args.waiting(), dry_run=dry_run)
        verb = "would uninstall" if dry_run else "uninstalled"
        summary = f"{verb} {args.ref} (revision {release.revision}, {release.status})"
        return ActionResult(summary=summary, data=_release_data(release))


def _deployed(history: list[Revision]) -> Revision | None:
    """The revision an upgrade's rollback returns to: the deployed one, else the latest (after a
    failed upgrade); None for a release that does not exist yet."""
    deployed = [r for r in history if r.status == "deployed"]
    return (deployed or history or [None])[-1]


def _release_data(release: Release) -> dict[str, Any]:
    """A release's facts without its manifest: the manifest can hold Secret data and is large."""
    data = asdict(release)
    del data["manifest"]
    return {"release": data.pop("name"), **data}


def _rollback_data(args: RollbackArgs, current: Revision, target: Revision) -> dict[str, Any]:
    return {
        "namespace": args.namespace,
        "release": args.release,
        "from_revision": current.revision,
        "to_revision": target.revision,
        "to_chart": target.chart,
    }
