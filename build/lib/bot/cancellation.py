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
        self._notices: dict[int, asyncio.Future[None]] = {}

    def notify(self, plan_id: int) -> None:
        """Called after a cancel of `plan_id` is committed in this process."""
        notice = self._notices.get(plan_id)
        if notice is not None and not notice.done():
            notice.set_result(None)

    async def run(self, *, plan_id: int, execution_id: int, work: Awaitable[T]) -> T:
        """Await `work`, cancelling it and raising `Cancelled` as soon as the plan is cancelled.

        The watching happens here, between waits, rather than in a task of its own: most steps end
        before the first poll, and a task per step costs more than the step's own writes.
        """
        task = asyncio.ensure_future(work)
        try:
            while not await self._ended(task, plan_id):
                # The worker read the flag just before the step (with the claim, or as the step
                # before it finished), so the first read waits a poll. Reads are shielded: a
                # cancel that lands mid-query would return the connection with its transaction
                # (and SQLite's write lock) still open.
                if await asyncio.shield(self._requested(execution_id)):
                    task.cancel()
                    break
        finally:
            self._notices.pop(plan_id, None)
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if task.cancelled():
            raise Cancelled()
        return task.result()

    async def _ended(self, task: asyncio.Future[T], plan_id: int) -> bool:
        """Wait until the work ends (True), or a poll interval passes or this process notices a
        cancel (False: time to read the flag)."""
        notice = self._notices.get(plan_id)
        if notice is None or notice.done():
            notice = self._notices[plan_id] = asyncio.get_running_loop().create_future()
        await asyncio.wait({task, notice}, timeout=self._poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        return task.done()

    async def _requested(self, execution_id: int) -> bool:
        async with self._sessions() as session:
            return await executions.is_cancel_requested(session, execution_id=execution_id)
