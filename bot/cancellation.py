"""Lets a running step learn that its plan was cancelled, so Cancel takes effect within a second.

A cancel made in this process wakes the step at once through an event. A cancel made by another
process (the Slack listener in `serve`, the worker in `carapulse worker`) is only visible in the
database, so while a step runs its execution's cancel flag is also read every `poll_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TypeVar

from bot import executions
from bot.db.engine import SessionFactory

T = TypeVar("T")


class Cancelled(Exception):
    pass


class CancelWatch:
    def __init__(self, *, sessions: SessionFactory, poll_seconds: float) -> None:
        self._sessions = sessions
        self._poll_seconds = poll_seconds
        self._events: dict[int, asyncio.Event] = {}

    def notify(self, plan_id: int) -> None:
        """Called after a cancel of `plan_id` is committed in this process."""
        event = self._events.get(plan_id)
        if event is not None:
            event.set()

    async def run(self, *, plan_id: int, execution_id: int, work: Awaitable[T]) -> T:
        """Await `work`, cancelling it and raising `Cancelled` as soon as the plan is cancelled."""
        event = self._events.setdefault(plan_id, asyncio.Event())
        task = asyncio.ensure_future(work)
        watcher = asyncio.create_task(self._watch(event, execution_id))
        try:
            await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._events.pop(plan_id, None)
            for pending in (task, watcher):
                if not pending.done():
                    pending.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await pending
        if task.cancelled():
            raise Cancelled()
        return task.result()

    async def _watch(self, event: asyncio.Event, execution_id: int) -> None:
        # The worker read the flag just before the step (with the claim, or as the step before it
        # finished), so the first read waits a poll: a step that ends sooner costs no read. Reads
        # are shielded: this watcher is cancelled whenever a step ends, and a cancel that lands
        # mid-query would return the connection with its transaction (and SQLite's write lock)
        # still open.
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), self._poll_seconds)
            if await asyncio.shield(self._requested(execution_id)):
                return

    async def _requested(self, execution_id: int) -> bool:
        async with self._sessions() as session:
            return await executions.is_cancel_requested(session, execution_id=execution_id)
