"""The `boundary` tool: HashiCorp Boundary targets and sessions through the controller's HTTP API.

Results are built from allow-listed fields, so a session's authorization token, brokered credentials
and certificate never reach a card or the audit log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import StringConstraints

from tools.boundary.client import JSON, BoundaryClient
from tools.common.base import (
    Action,
    ActionArgs,
    ActionResult,
    ArgsT,
    Effect,
    Rehearsed,
    RollbackStep,
    ToolError,
)

# Boundary ids are a type prefix and ten base62 characters ("ttcp_1234567890", "s_1234567890").
_ID = r"[A-Za-z0-9]{10}"
ScopeId = Annotated[str, StringConstraints(pattern=rf"^(global|[op]_{_ID})$")]
TargetId = Annotated[str, StringConstraints(pattern=rf"^t[a-z]*_{_ID}$")]
SessionId = Annotated[str, StringConstraints(pattern=rf"^s_{_ID}$")]
HostId = Annotated[str, StringConstraints(pattern=rf"^h[a-z]*_{_ID}$")]
AuthMethodId = Annotated[str, StringConstraints(pattern=rf"^am[a-z]*_{_ID}$")]

_TARGET_FIELDS = (
    "id", "name", "description", "type", "scope_id", "address",
    "session_max_seconds", "session_connection_limit", "authorized_actions",
)  # fmt: skip
_SESSION_FIELDS = (
    "id", "target_id", "scope_id", "user_id", "host_id", "type", "status", "version",
    "endpoint", "created_time", "expiration_time", "termination_reason",
)  # fmt: skip
_FINISHED = frozenset({"canceling", "terminated"})


class ListTargetsArgs(ActionArgs):
    scope_id: ScopeId | None = None  # None: BOUNDARY_SCOPE_ID
    recursive: bool = True


class ListSessionsArgs(ActionArgs):
    scope_id: ScopeId | None = None
    target_id: TargetId | None = None
    include_terminated: bool = False


class AuthorizeSessionArgs(ActionArgs):
    target_id: TargetId
    host_id: HostId | None = None


class SessionArgs(ActionArgs):
    session_id: SessionId


class _BoundaryAction(Action[ArgsT]):
    def __init__(self, client: BoundaryClient, *, default_scope: str = "global") -> None:
        self.client = client
        self.default_scope = default_scope


class ListTargets(_BoundaryAction[ListTargetsArgs]):
    name = "boundary.targets_list"
    description = "List the Boundary targets in a scope (and its child scopes)."
    args_model = ListTargetsArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 60.0

    async def run(self, args: ListTargetsArgs) -> ActionResult:
        scope = args.scope_id or self.default_scope
        params = {"scope_id": scope, "recursive": args.recursive}
        items = await self.client.list("/v1/targets", what=f"targets of scope {scope}", params=params)
        targets = [_pick(item, _TARGET_FIELDS) | {"scope_name": _scope_name(item)} for item in items]
        names = ", ".join(str(t.get("name") or t["id"]) for t in targets[:10])
        more = ", …" if len(targets) > 10 else ""
        return ActionResult(
            summary=f"{len(targets)} Boundary targets in {scope}" + (f": {names}{more}" if names else ""),
            data={"scope_id": scope, "targets": targets, "count": len(targets)},
        )


class ListSessions(_BoundaryAction[ListSessionsArgs]):
    name = "boundary.sessions_list"
    description = "List Boundary sessions in a scope, optionally for one target."
    args_model = ListSessionsArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 60.0

    async def run(self, args: ListSessionsArgs) -> ActionResult:
        scope = args.scope_id or self.default_scope
        params = {"scope_id": scope, "recursive": True, "include_terminated": args.include_terminated}
        items = await self.client.list("/v1/sessions", what=f"sessions of scope {scope}", params=params)
        sessions = [
            _pick(item, _SESSION_FIELDS)
            for item in items
            if args.target_id is None or item.get("target_id") == args.target_id
        ]
        counts = sorted(Counter(str(session.get("status")) for session in sessions).items())
        by_status = ", ".join(f"{n} {status}" for status, n in counts)
        of_target = f" of target {args.target_id}" if args.target_id else ""
        return ActionResult(
            summary=f"{len(sessions)} Boundary sessions{of_target} in {scope}"
            + (f": {by_status}" if counts else ""),
            data={"scope_id": scope, "sessions": sessions, "count": len(sessions)},
        )


class AuthorizeSession(Rehearsed, _BoundaryAction[AuthorizeSessionArgs]):
    """Authorizes a session to a target as Carapulse's Boundary user. The authorization token and any
    brokered credentials are left out of the result; the session shows up in sessions_list and can be
    cancelled, which is this action's rollback."""

    name = "boundary.session_authorize"
    description = "Authorize a Boundary session to a target (the token and credentials are not shown)."
    args_model = AuthorizeSessionArgs
    effect = Effect.WRITE
    timeout_seconds = 30.0

    async def run(self, args: AuthorizeSessionArgs) -> ActionResult:
        body = {"host_id": args.host_id} if args.host_id else {}
        path = f"/v1/targets/{args.target_id}:authorize-session"
        # Not repeatable: a retried authorize would open a second session.
        answer = await self.client.call("POST", path, what=f"target {args.target_id}", json_body=body)
        data = _pick(
            answer, ("session_id", "target_id", "user_id", "host_id", "host_set_id", "type", "endpoint")
        )
        data["created_time"] = answer.get("created_time")
        data["brokered_credentials"] = len(answer.get("credentials") or [])
        return ActionResult(
            summary=f"authorized Boundary session {data.get('session_id')} to target {args.target_id}",
            data=data,
        )

    async def rehearse(self, args: AuthorizeSessionArgs) -> ActionResult:
        target = await self.client.get(f"/v1/targets/{args.target_id}", what=f"target {args.target_id}")
        if "authorize-session" not in (target.get("authorized_actions") or []):
            raise ToolError(
                f"boundary: Carapulse's Boundary user may not authorize sessions to target {args.target_id}",
                call=f"GET /v1/targets/{args.target_id}",
                status=403,
            )
        return ActionResult(
            summary=f"would authorize a session to target {target.get('name') or args.target_id}",
            data=_pick(target, _TARGET_FIELDS),
        )

    def rollback(self, args: AuthorizeSessionArgs, result: ActionResult) -> RollbackStep | None:
        session_id = result.data.get("session_id")
        if not session_id:
            return None
        return RollbackStep(
            action=CancelSession.name,
            args={"session_id": session_id},
            description=f"cancel Boundary session {session_id}",
        )


class CancelSession(Rehearsed, _BoundaryAction[SessionArgs]):
    """Cancels a session (its connections are closed). Reads the session first for its version, as
    the API requires; a session already canceling or terminated is left alone."""

    name = "boundary.session_cancel"
    description = "Cancel a Boundary session and close its connections."
    args_model = SessionArgs
    effect = Effect.WRITE
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: SessionArgs) -> ActionResult:
        before = await self._read(args)
        if before.get("status") in _FINISHED:
            return _cancel_result(before, before, note="already ")
        path = f"/v1/sessions/{args.session_id}:cancel"
        after = await self.client.call(
            "POST",
            path,
            what=f"session {args.session_id}",
            json_body={"version": before["version"]},
            repeatable=True,  # cancelling twice is a no-op on the controller
        )
        return _cancel_result(before, after)

    async def rehearse(self, args: SessionArgs) -> ActionResult:
        session = await self._read(args)
        if session.get("status") in _FINISHED:
            return _cancel_result(session, session, note="already ")
        return ActionResult(
            summary=(
                f"would cancel Boundary session {args.session_id} "
                f"({session.get('status')}, user {session.get('user_id')}, target {session.get('target_id')})"
            ),
            data=_pick(session, _SESSION_FIELDS),
        )

    async def _read(self, args: SessionArgs) -> JSON:
        return await self.client.get(f"/v1/sessions/{args.session_id}", what=f"session {args.session_id}")


def _cancel_result(before: JSON, after: JSON, *, note: str = "") -> ActionResult:
    session_id = before.get("id")
    return ActionResult(
        summary=f"{note}cancelled Boundary session {session_id} (was {before.get('status')})",
        data=_pick(after, _SESSION_FIELDS) | {"previous_status": before.get("status")},
    )


def _pick(item: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: item[name] for name in fields if name in item}


def _scope_name(item: Mapping[str, Any]) -> str | None:
    scope = item.get("scope") or {}
    return scope.get("name") if isinstance(scope, dict) else None
