"""Coalesced deliveries to Slack, one pump per key: a card per plan (bot/notifier.py), a message per
incident (bot/incident_desk.py), an App Home tab per person (bot/home.py).

A change marks its key dirty; one pump task per key delivers the latest state at most once per
interval. Because every delivery renders what is stored now, the newest state always wins and a
delivery that failed is simply redone with fresher data. Failures back off exponentially; an error
after which the same call cannot succeed (or too many in a row) ends the pump, logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from slack_sdk.errors import SlackApiError

from bot.tasks import TaskSupervisor

log = logging.getLogger(__name__)

# Errors after which retrying the same call cannot succeed.
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
        "user_not_found",
    }
)
MAX_DELIVERY_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 30.0

K = TypeVar("K", bound=Hashable)
S = TypeVar("S")


@dataclass
class _Slot(Generic[S]):
    state: S
    dirty: bool = False
    pump: asyncio.Task[None] | None = field(default=None)


class Coalescer(Generic[K, S]):
    """`deliver(key, state)` sends what `key` shows now; `state` is per-key data the caller keeps
    between deliveries (made by `new_state`, dropped once the pump has nothing left to do)."""

    def __init__(
        self,
        *,
        deliver: Callable[[K, S], Awaitable[None]],
        new_state: Callable[[], S],
        describe: Callable[[K], str],
        supervisor: TaskSupervisor,
        min_interval: float,
    ) -> None:
        self._deliver = deliver
        self._new_state = new_state
        self._describe = describe
        self._supervisor = supervisor
        self._min_interval = min_interval
        self._slots: dict[K, _Slot[S]] = {}

    def state(self, key: K) -> S:
        """The key's state, made if it has none, so a caller can mark what the next delivery owes."""
        return self._slot(key).state

    def mark(self, key: K) -> None:
        slot = self._slot(key)
        slot.dirty = True
        if slot.pump is None or slot.pump.done():
            slot.pump = self._supervisor.spawn(self._pump(key, slot), name=f"deliver-{key}")

    async def settled(self, key: K) -> None:
        """Wait until what was marked for `key` so far has been delivered (or given up on)."""
        slot = self._slots.get(key)
        if slot is not None and slot.pump is not None and not slot.pump.done():
            await asyncio.shield(slot.pump)

    def _slot(self, key: K) -> _Slot[S]:
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot(state=self._new_state())
        return slot

    async def _pump(self, key: K, slot: _Slot[S]) -> None:
        """Deliver the latest state, then hold the key's slot for one interval so that changes
        arriving meanwhile are folded into the next delivery instead of each causing one."""
        failures = 0
        while slot.dirty:
            slot.dirty = False
            try:
                await self._deliver(key, slot.state)
            except (TimeoutError, SlackApiError, OSError) as exc:
                failures += 1
                if _is_permanent(exc) or failures >= MAX_DELIVERY_ATTEMPTS:
                    log.error("giving up on %s: %s", self._describe(key), describe(exc))
                    break
                log.warning("updating %s failed (%s); retrying", self._describe(key), describe(exc))
                slot.dirty = True
                await asyncio.sleep(min(MAX_BACKOFF_SECONDS, 0.5 * 2**failures))
                continue
            failures = 0
            await asyncio.sleep(self._min_interval)
        if self._slots.get(key) is slot:
            del self._slots[key]


def digest(shown: Any) -> str:
    """What a message or view shows, as a short fingerprint, so a render that changed nothing costs
    no call."""
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()


def _is_permanent(exc: Exception) -> bool:
    return isinstance(exc, SlackApiError) and exc.response.get("error") in PERMANENT_ERRORS


def describe(exc: Exception) -> str:
    """A Slack or network error in a few words, for a log line."""
    if isinstance(exc, SlackApiError):
        return f"{exc.response.status_code} {exc.response.get('error')}"
    return f"{type(exc).__name__}: {exc}"
