"""Coalesced delivery of one Slack message per key: a change marks the key dirty, and one pump task
per key delivers the latest stored state at most once per interval.

Because every delivery reads the database, the newest state always wins and a delivery that failed
is simply redone with fresher data. Plan cards (bot/notifier.py) and incident messages
(bot/incident_notifier.py) share this: a storm of changes costs one edit per interval, not one each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from slack_sdk.errors import SlackApiError

from bot.tasks import TaskSupervisor

log = logging.getLogger(__name__)

# Errors after which retrying the same edit cannot succeed.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "is_archived",
        "invalid_blocks",
    }
)
MAX_DELIVERY_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 30.0

K = TypeVar("K", bound=Hashable)
Deliver = Callable[[K], Awaitable[None]]


@dataclass
class _Slot:
    dirty: bool = False
    pump: asyncio.Task[None] | None = None


class Coalescer(Generic[K]):
    """`deliver(key)` renders and sends the latest state of one key; it raises SlackApiError,
    OSError or TimeoutError to be retried (with backoff, up to MAX_DELIVERY_ATTEMPTS)."""

    def __init__(
        self, *, deliver: Deliver[K], supervisor: TaskSupervisor, min_interval: float, what: str
    ) -> None:
        self._deliver = deliver
        self._supervisor = supervisor
        self._min_interval = min_interval
        self._what = what
        self._slots: dict[K, _Slot] = {}

    def mark(self, key: K) -> None:
        slot = self._slots.setdefault(key, _Slot())
        slot.dirty = True
        if slot.pump is None or slot.pump.done():
            slot.pump = self._supervisor.spawn(self._pump(key, slot), name=f"{self._what}-{key}")

    async def settled(self, key: K) -> None:
        """Wait until the key's message shows the latest state handed over so far."""
        slot = self._slots.get(key)
        if slot is not None and slot.pump is not None and not slot.pump.done():
            await asyncio.shield(slot.pump)

    async def _pump(self, key: K, slot: _Slot) -> None:
        """Send the latest state, then hold the key's slot for one interval so that changes
        arriving meanwhile are folded into the next delivery instead of each causing one."""
        failures = 0
        while slot.dirty:
            slot.dirty = False
            try:
                await self._deliver(key)
            except (TimeoutError, SlackApiError, OSError) as exc:
                failures += 1
                if _is_permanent(exc) or failures >= MAX_DELIVERY_ATTEMPTS:
                    log.error("giving up on the %s of %s: %s", self._what, key, describe(exc))
                    break
                log.warning("%s edit for %s failed (%s); retrying", self._what, key, describe(exc))
                slot.dirty = True
                await asyncio.sleep(min(MAX_BACKOFF_SECONDS, 0.5 * 2**failures))
                continue
            failures = 0
            await asyncio.sleep(self._min_interval)
        self._slots.pop(key, None)


def describe(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return f"{exc.response.status_code} {exc.response.get('error')}"
    return f"{type(exc).__name__}: {exc}"


def _is_permanent(exc: Exception) -> bool:
    return isinstance(exc, SlackApiError) and exc.response.get("error") in PERMANENT_ERRORS
