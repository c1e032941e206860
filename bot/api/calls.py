"""One API call from end to end: who is calling, the handler, the refusal body for whatever it
raised, and an audit event for every call, refused ones included."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from pydantic import BaseModel

from bot import audit
from bot.api.errors import ApiRefusal, status_of
from bot.api.models import ErrorBody
from bot.api.service import ApiService
from bot.audit import AuditKind
from bot.domain import Actor
from bot.errors import CarapulseError, NotFound

log = logging.getLogger(__name__)

# Who the audit log names for a call that proved no identity.
ANONYMOUS = "anonymous"


@dataclass
class Call:
    """What the audit event of a call says beyond its request and status: set by the handler."""

    actor: Actor
    plan_id: int | None = None


Handler = Callable[[ApiService, web.Request, Call], Awaitable[web.StreamResponse]]
Endpoint = Callable[[web.Request], Awaitable[web.StreamResponse]]


def endpoint(api: ApiService, handler: Handler) -> Endpoint:
    """Authenticate, run the handler, turn what it raised into a refusal, audit the call."""

    async def handle(request: web.Request) -> web.StreamResponse:
        call: Call | None = None
        reason = ""
        try:
            call = Call(actor=await api.auth.caller(request.headers.get("Authorization")))
            response = await handler(api, request, call)
        except ApiRefusal as refusal:
            response, reason = (
                refused(refusal.status, refusal.code, refusal.reason, refusal.problems),
                refusal.reason,
            )
        except CarapulseError as error:
            status, code = status_of(error)
            if isinstance(error, NotFound) and call is not None:
                call.plan_id = None
            problems = getattr(error, "problems", {})
            response, reason = refused(status, code, error.message, problems), error.message
        except web.HTTPException as exc:
            # aiohttp's own refusals while reading the request (413 for a body over its limit).
            response, reason = refused(exc.status, "http_error", exc.reason), exc.reason
        except Exception:
            response, reason = unexpected(), "unexpected error"
        await _audit(api, request, call, response.status, reason)
        return response

    return handle


def answer(body: BaseModel, *, status: int = 200) -> web.Response:
    return web.json_response(body.model_dump(mode="json"), status=status)


def refused(status: int, code: str, message: str, problems: dict[str, str] | None = None) -> web.Response:
    return answer(ErrorBody(error=code, message=message, problems=problems or {}), status=status)


def unexpected() -> web.Response:
    reference = uuid.uuid4().hex[:8]
    log.exception("unexpected error in an API call (ref %s)", reference)
    return refused(500, "internal_error", f"Something went wrong (ref {reference}); the error is logged.")


async def _audit(api: ApiService, request: web.Request, call: Call | None, status: int, reason: str) -> None:
    detail: dict[str, object] = {"method": request.method, "path": request.path, "status": status}
    if reason:
        detail["reason"] = reason
    if call is not None and call.actor.pipeline is not None:
        # Which token, or which repository, ref and run of a CI provider, made the call.
        detail["claims"] = call.actor.pipeline.claims
    async with api.runtime.sessions.begin() as session:
        await audit.record(
            session,
            team_id=api.team_id,
            actor_id=call.actor.user_id if call else ANONYMOUS,
            kind=AuditKind.API_CALL,
            plan_id=call.plan_id if call else None,
            detail=detail,
        )
