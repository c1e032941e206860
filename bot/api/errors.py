"""How the API says no: one JSON body shape for every refusal, and the HTTP status each error maps to."""

from __future__ import annotations

from bot.errors import CarapulseError, Conflict, NotFound, PolicyDenied
from bot.notifier import CardNotPosted
from bot.plan_rate import RateLimited
from bot.workflows.forms import InvalidInputs


class ApiRefusal(Exception):
    """A request the API refuses before any service sees it; `reason` says what to fix."""

    status = 400
    code = "bad_request"

    def __init__(self, reason: str, *, problems: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.problems = problems or {}


class Unauthorized(ApiRefusal):
    """No credential, or one that does not prove who is calling (unknown, revoked, expired, forged)."""

    status = 401
    code = "unauthorized"


class Forbidden(ApiRefusal):
    """The caller is known but may not do this."""

    status = 403
    code = "forbidden"


class TooLarge(ApiRefusal):
    """A body over MAX_REQUEST_BYTES."""

    status = 413
    code = "too_large"


class Invalid(ApiRefusal):
    """A body or query the API cannot read as its model says."""

    status = 422
    code = "invalid"


def status_of(error: CarapulseError) -> tuple[int, str]:
    """The HTTP status and code of a service's error; a subclass is matched before its base."""
    for kind, status, code in _STATUSES:
        if isinstance(error, kind):
            return status, code
    return 400, "bad_request"


_STATUSES: tuple[tuple[type[CarapulseError], int, str], ...] = (
    (CardNotPosted, 502, "card_not_posted"),
    (RateLimited, 429, "rate_limited"),
    (InvalidInputs, 422, "invalid_inputs"),
    (PolicyDenied, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
)
