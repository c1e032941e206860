"""Tells whoever waits on a plan (the API's event streams) that it changed, within this process.

The notifier hears of every stored state change made here (by the worker, a Slack click, the API)
and passes each on, so a waiter wakes at once instead of polling. A change made by another process
(a `carapulse worker` elsewhere) is not heard here; waiters reread on a slow timer for that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager


class PlanChanges:
    def __init__(self) -> None:
        self._waiters: dict[tuple[str, int], set[asyncio.Event]] = {}
        self.closed = False

    @contextmanager
    def watch(self, team_id: str, plan_id: int) -> Iterator[asyncio.Event]:
        """An event set on each change of the plan (and on close) while the block runs; the waiter
        clears it before it reads the plan, so a change during the read is not lost."""
        key = (team_id, plan_id)
        changed = asyncio.Event()
        if self.closed:
            changed.set()
        self._waiters.setdefault(key, set()).add(changed)
        try:
            yield changed
        finally:
            waiters = self._waiters.get(key)
            if waiters is not None:
                waiters.discard(changed)
                if not waiters:
                    del self._waiters[key]

    def plan_changed(self, team_id: str, plan_id: int) -> None:
        for changed in self._waiters.get((team_id, plan_id), ()):
            changed.set()

    def plan_finished(self, team_id: str, plan_id: int) -> None:
        self.plan_changed(team_id, plan_id)

    def close(self) -> None:
        """Wake every waiter for good: the server is shutting down and streams should end."""
        self.closed = True
        for waiters in self._waiters.values():
            for changed in waiters:
                changed.set()
