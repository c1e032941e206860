"""The ids a log line carries without each call passing them: the Slack request being answered,
the plan and the execution being worked on.

They live in context variables, so they follow the work: asyncio copies the context into every task
it starts, and the follow-up work a request promised (bot/after_ack.py) runs with its request id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("carapulse_request_id", default=None)
PLAN_ID: ContextVar[int | None] = ContextVar("carapulse_plan_id", default=None)
EXECUTION_ID: ContextVar[int | None] = ContextVar("carapulse_execution_id", default=None)

_FIELDS: dict[str, ContextVar] = {  # type: ignore[type-arg]
    "request_id": REQUEST_ID,
    "plan_id": PLAN_ID,
    "execution_id": EXECUTION_ID,
}


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


@contextmanager
def bound(
    *, request_id: str | None = None, plan_id: int | None = None, execution_id: int | None = None
) -> Iterator[None]:
    """Within the block, log lines carry the ids given (those left None keep their outer value)."""
    given = {"request_id": request_id, "plan_id": plan_id, "execution_id": execution_id}
    tokens = [(_FIELDS[name], _FIELDS[name].set(value)) for name, value in given.items() if value is not None]
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


def current() -> dict[str, str | int]:
    """The ids set where the caller runs, None ones left out."""
    return {name: value for name, variable in _FIELDS.items() if (value := variable.get()) is not None}
