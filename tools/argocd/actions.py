"""Argo CD applications through the API server's REST gateway: status, history, resource health and
what a sync would change; start a sync or a rollback, and wait until an application is Synced and Healthy.

A sync or rollback only asks the application controller to act and returns; `argocd.app_status` waits
for the result. Their inverse is a rollback to the deployment that was live before them, read from
`status.history` before anything was requested.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from tools.argocd.client import AppArgs, ArgoCDClient, app_path
from tools.argocd.state import (
    FAILED_PHASES,
    HEALTHY,
    JSON,
    AppState,
    HistoryEntry,
    ResourceChange,
    changes_of,
    health_counts,
    kubectl_verbs,
    short,
    tree_health,
)
from tools.common.base import Action, ActionResult, ArgsT, Effect, Rehearsed, RollbackStep, ToolError
from tools.common.pins import require_unmoved
from tools.common.polling import until

# A commit SHA, branch, tag or Helm chart version.
Revision = Annotated[str, StringConstraints(max_length=255, pattern=r"^[A-Za-z0-9_.][A-Za-z0-9_./+-]*$")]

# How long a dry run may take: Argo CD runs it as an operation of its own, like a real sync.
REHEARSAL_SECONDS = 120.0
_LISTED = 50


class SyncArgs(AppArgs):
    revision: Revision | None = None
    prune: bool = False
    force: bool = False
    strategy: Literal["hook", "apply"] = "hook"
    # The revision the plan saw deployed (the newest history entry): the sync, and so its rollback
    # to that deployment, refuses once another one was deployed since.
    expected_live_revision: Revision | None = None


class DiffArgs(AppArgs):
    # Ask Argo CD to compare with git again first, so a commit pushed a moment ago is in the diff.
    refresh: Literal["normal", "hard"] | None = None


class RollbackArgs(AppArgs):
    history_id: Annotated[int, Field(ge=0)]
    prune: bool = False


class WaitArgs(AppArgs):
    timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 300
    # A revision that does not count (the commit a change was made on): Synced and Healthy there
    # means the application has not picked the change up yet.
    stale_revision: Revision | None = None


class _ArgoCDAction(Action[ArgsT]):
    def __init__(self, client: ArgoCDClient, *, poll_seconds: float = 2.0) -> None:
        self.client = client
        self.poll_seconds = poll_seconds

    async def _state(self, app: AppArgs) -> AppState:
        return AppState.of(await self.client.application(app))

    async def _until(
        self, app: AppArgs, done: Callable[[AppState], bool], time_limit: float
    ) -> tuple[AppState, bool]:
        return await until(
            lambda: self._state(app), done, time_limit=time_limit, poll_seconds=self.poll_seconds
        )

    async def _rehearse_operation(
        self, app: AppArgs, what: str, start: Callable[[], Awaitable[JSON]]
    ) -> ActionResult:
        """Start a dry-run operation and report what kubectl would have done to each resource."""
        call = f"POST {app_path(app)}/{what}"
        await start()
        state, settled = await self._until(app, lambda s: s.settled, REHEARSAL_SECONDS)
        if not settled:
            message = f"dry run of {what} of {app.name} did not finish within {REHEARSAL_SECONDS:g}s"
            raise ToolError(message, call=call)
        operation = state.operation
        if operation is None or not operation.dry_run:
            raise ToolError(
                f"argocd replaced the dry run of {what} of {app.name} with another operation", call=call
            )
        if operation.phase in FAILED_PHASES:
            raise ToolError(
                f"dry run of {what} of {app.name} {operation.phase.lower()}: {operation.message}", call=call
            )
        verbs = kubectl_verbs(operation.resources)
        tally = ", ".join(f"{count} {verb}" for verb, count in verbs.items()) or "nothing to apply"
        return ActionResult(
            summary=f"{what} of {app.name} to {short(operation.revision)}: {tally}",
            data={
                **app.ref(),
                "dry_run": True,
                "revision": operation.revision,
                "counts": verbs,
                "resources": operation.resources[:_LISTED],
            },
        )


class GetApp(_ArgoCDAction[AppArgs]):
    name = "argocd.get_app"
    description = "Show an Argo CD application's sync status, health, revision and last operation."
    args_model = AppArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: AppArgs) -> ActionResult:
        state = await self._state(args)
        summary = f"{args.name}: {state.line()}, tracking {state.target_revision}"
        if state.operation is not None and state.operation.finished:
            summary += f"; last operation {state.operation.phase}"
        return ActionResult(summary=summary, data=state.data())


class GetResources(_ArgoCDAction[AppArgs]):
    name = "argocd.get_resources"
    description = (
        "Show the health of every resource an Argo CD application manages, naming the unhealthy ones."
    )
    args_model = AppArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: AppArgs) -> ActionResult:
        nodes = tree_health(await self.client.resource_tree(args))
        counts = health_counts(nodes)
        unhealthy = [node for node in nodes if node.health != HEALTHY]
        tally = ", ".join(f"{count} {health}" for health, count in counts.items())
        summary = (
            f"{args.name}: {len(nodes)} resources report health ({tally})"
            if nodes
            else (f"{args.name}: no resources report health")
        )
        if unhealthy:
            summary += "; " + "; ".join(
                f"{node.ref} {node.health}" + (f": {node.message}" if node.message else "")
                for node in unhealthy[:3]
            )
        data = {"name": args.name, "counts": counts, "unhealthy": [asdict(n) for n in unhealthy[:_LISTED]]}
        return ActionResult(summary=summary, data=data)


class GetDiff(_ArgoCDAction[DiffArgs]):
    """The sync preview: what differs between the live cluster and what git says it should be."""

    name = "argocd.get_diff"
    description = (
        "Preview what a sync would change: resources to create, update or prune, with changed fields."
    )
    args_model = DiffArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 60.0

    async def run(self, args: DiffArgs) -> ActionResult:
        if args.refresh:
            await self.client.application(args, refresh=args.refresh)
        changes = changes_of(await self.client.managed_resources(args))
        if not changes:
            summary = f"{args.name}: live state matches the target; a sync would change nothing"
        else:
            listed = "; ".join(_change_phrase(change) for change in changes[:3])
            more = f"; and {len(changes) - 3} more" if len(changes) > 3 else ""
            summary = f"{args.name}: a sync would change {len(changes)} resources: {listed}{more}"
        data = {
            "name": args.name,
            "change_count": len(changes),
            "changes": [asdict(change) for change in changes[:_LISTED]],
        }
        return ActionResult(summary=summary, data=data)


class ListHistory(_ArgoCDAction[AppArgs]):
    name = "argocd.list_history"
    description = "List an Argo CD application's deployments, newest first, with the ids a rollback takes."
    args_model = AppArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: AppArgs) -> ActionResult:
        state = await self._state(args)
        current = state.current
        if current is None:
            summary = f"{args.name} has no deployment history yet"
        else:
            summary = (
                f"{args.name}: {len(state.history)} deployments; live is id {current.id} "
                f"({short(current.revision)}, deployed {current.deployed_at})"
            )
        history = [asdict(entry) for entry in reversed(state.history)]
        return ActionResult(summary=summary, data={"name": args.name, "history": history})


class AppStatus(_ArgoCDAction[WaitArgs]):
    """`argocd app wait --sync --health`: re-read the application until it is Synced and Healthy."""

    name = "argocd.app_status"
    description = "Wait until an Argo CD application is Synced and Healthy, or fail when its sync failed."
    args_model = WaitArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 3660.0  # above the largest timeout_seconds the args accept

    async def run(self, args: WaitArgs) -> ActionResult:
        call = f"GET {app_path(args)}"

        def arrived(state: AppState) -> bool:
            return state.converged and state.revision != args.stale_revision

        state, _ = await self._until(
            args, lambda s: arrived(s) or s.failed_operation is not None, args.timeout_seconds
        )
        if arrived(state):
            return ActionResult(
                summary=f"{args.name} is Synced and Healthy at {short(state.revision)}", data=state.data()
            )
        if state.converged:
            message = (
                f"{args.name} is Synced and Healthy but still at {short(state.revision)}, the revision "
                f"before the change: it did not pick the change up within {args.timeout_seconds:g}s"
            )
            raise ToolError(message, call=call)
        failed = state.failed_operation
        if failed is not None:
            message = (
                f"{args.name}: the last sync {failed.phase.lower()}: {failed.message}; now {state.line()}"
            )
            raise ToolError(message, call=call)
        detail = f" ({state.health_message})" if state.health_message else ""
        message = (
            f"{args.name} did not become Synced and Healthy within {args.timeout_seconds:g}s: "
            f"{state.line()}{detail}"
        )
        raise ToolError(message, call=call)


class SyncApp(Rehearsed, _ArgoCDAction[SyncArgs]):
    name = "argocd.sync"
    description = "Sync an Argo CD application to its target (or a given) revision."
    args_model = SyncArgs
    effect = Effect.WRITE
    timeout_seconds = REHEARSAL_SECONDS + 60

    async def run(self, args: SyncArgs) -> ActionResult:
        before = await self._unmoved(args)
        await self.client.sync(args, _sync_body(args, dry_run=False))
        revision = args.revision or before.target_revision
        return _started(f"sync of {args.name} to {revision}", args, before, revision=revision)

    async def rehearse(self, args: SyncArgs) -> ActionResult:
        await self._unmoved(args)
        return await self._rehearse_operation(
            args, "sync", lambda: self.client.sync(args, _sync_body(args, dry_run=True))
        )

    async def _unmoved(self, args: SyncArgs) -> AppState:
        state = await self._state(args)
        live = state.current.revision if state.current else ""
        what = f"the revision {args.name} runs"
        require_unmoved(what, pinned=args.expected_live_revision, live=live, call=f"GET {app_path(args)}")
        return state

    def rollback(self, args: SyncArgs, result: ActionResult) -> RollbackStep | None:
        return _back_to_previous(args, result)


class RollbackApp(Rehearsed, _ArgoCDAction[RollbackArgs]):
    name = "argocd.rollback"
    description = "Roll an Argo CD application back to an earlier deployment from its history."
    args_model = RollbackArgs
    effect = Effect.WRITE
    timeout_seconds = REHEARSAL_SECONDS + 60

    async def run(self, args: RollbackArgs) -> ActionResult:
        before = await self._state(args)
        target = _history_entry(before, args)
        await self.client.rollback(args, _rollback_body(args, dry_run=False))
        what = f"rollback of {args.name} to history id {target.id} ({short(target.revision)})"
        return _started(what, args, before, revision=target.revision)

    async def rehearse(self, args: RollbackArgs) -> ActionResult:
        _history_entry(await self._state(args), args)
        body = _rollback_body(args, dry_run=True)
        return await self._rehearse_operation(args, "rollback", lambda: self.client.rollback(args, body))

    def rollback(self, args: RollbackArgs, result: ActionResult) -> RollbackStep | None:
        return _back_to_previous(args, result)


def _sync_body(args: SyncArgs, *, dry_run: bool) -> JSON:
    body: JSON = {
        "name": args.name,
        "dryRun": dry_run,
        "prune": args.prune,
        "strategy": {args.strategy: {"force": args.force}},
    }
    if args.revision:
        body["revision"] = args.revision
    return body


def _rollback_body(args: RollbackArgs, *, dry_run: bool) -> JSON:
    return {"name": args.name, "id": args.history_id, "dryRun": dry_run, "prune": args.prune}


def _history_entry(state: AppState, args: RollbackArgs) -> HistoryEntry:
    for entry in state.history:
        if entry.id == args.history_id:
            return entry
    known = ", ".join(str(entry.id) for entry in state.history) or "none"
    message = f"{args.name} has no deployment with history id {args.history_id} (ids: {known})"
    raise ToolError(message, call=f"GET {app_path(args)}", status=404)


def _started(what: str, args: AppArgs, before: AppState, *, revision: str) -> ActionResult:
    """The result of a requested operation, carrying the deployment it replaces for the rollback."""
    current = before.current
    live = f"; live was history id {current.id} ({short(current.revision)})" if current else ""
    auto = "; auto-sync is on, so undo it with a git revert" if before.auto_sync else ""
    return ActionResult(
        summary=f"started {what}{live}{auto}",
        data={
            **args.ref(),
            "revision": revision,
            "previous_history_id": current.id if current else None,
            "previous_revision": current.revision if current else None,
            "auto_sync": before.auto_sync,
        },
    )


def _back_to_previous(args: AppArgs, result: ActionResult) -> RollbackStep | None:
    """Rollback to the deployment that was live before; none when there was none, or when auto-sync is
    on (Argo CD refuses a rollback then, and would sync straight back to git anyway)."""
    previous = result.data.get("previous_history_id")
    if previous is None or result.data.get("auto_sync"):
        return None
    return RollbackStep(
        action=RollbackApp.name,
        args={**args.ref(), "history_id": previous},
        description=(
            f"roll {args.name} back to history id {previous} "
            f"({short(str(result.data.get('previous_revision') or ''))})"
        ),
    )


def _change_phrase(change: ResourceChange) -> str:
    if change.change == "prune":
        return f"prune {change.ref} (only with prune)"
    if change.change == "create":
        return f"create {change.ref}"
    first = f" ({change.fields[0]})" if change.fields else ""
    return f"update {change.ref}{first}"
