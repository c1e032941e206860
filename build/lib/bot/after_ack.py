"""Work that follows an ack runs behind the acks themselves.

One event loop answers Slack and does the work each answer promised (store a plan, decide policy,
post its card). asyncio runs ready callbacks first come, first served, so when twenty people click
at once, every in-flight piece of follow-up work takes a turn before the next request is even read,
and acks slow down by the size of the backlog. Two rules keep an ack from waiting on that work:

- follow-up work starts only once no request has been answered for a short quiet spell
  (`RequestGate`), so a burst of requests is acked before any of the work it promised starts; a
  piece waits at most `max_wait` seconds for that, so a steady stream cannot starve it;
- at most `concurrency` pieces of it run at once, the rest wait their turn in order, parked off the
  ready queue (`AfterAck`).

A piece that has started runs to its end (a plan is never left half-stored); it only yields the
loop at its own awaits, as any coroutine does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

from bot.tasks import TaskSupervisor

DEFAULT_CONCURRENCY = 4
DEFAULT_QUIET_SECONDS = 0.05
DEFAULT_MAX_WAIT_SECONDS = 2.0


class RequestGate:
    """Counts the requests being answered; `idle()` returns once none has been for `quiet` seconds,
    or once `max_wait` seconds have passed since it was called."""

    def __init__(
        self, *, quiet: float = DEFAULT_QUIET_SECONDS, max_wait: float = DEFAULT_MAX_WAIT_SECONDS
    ) -> None:
        self._quiet = quiet
        self._max_wait = max_wait
        self._answering = 0
        self._last_answered = -quiet
        self._idle = asyncio.Event()
        self._idle.set()
        self._busy = asyncio.Event()

    @contextmanager
    def answering(self) -> Iterator[None]:
        self._answering += 1
        self._idle.clear()
        self._busy.set()
        try:
            yield
        finally:
            self._answering -= 1
            if self._answering == 0:
                self._last_answered = asyncio.get_running_loop().time()
                self._busy.clear()
                self._idle.set()

    async def idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._quiet_spell(), self._max_wait)

    async def _quiet_spell(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._idle.wait()
            left = self._quiet - (loop.time() - self._last_answered)
            if left <= 0:
                return
            try:
                # A request arriving within the spell starts the wait over once it is answered.
                await asyncio.wait_for(self._busy.wait(), left)
            except TimeoutError:
                return


class AfterAck:
    """Runs follow-up work in submission order, `concurrency` at a time, each piece started only
    while the gate is idle. Tasks are owned by the supervisor, so shutdown drains or cancels them."""

    def __init__(
        self, *, supervisor: TaskSupervisor, gate: RequestGate, concurrency: int = DEFAULT_CONCURRENCY
    ) -> None:
        self._supervisor = supervisor
        self._gate = gate
        self._slots = asyncio.Semaphore(concurrency)

    def submit(self, work: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Raises RuntimeError (and closes `work`) once the supervisor is shutting down."""
        try:
            return self._supervisor.spawn(self._in_turn(work), name=name)
        except RuntimeError:
            work.close()
            raise

    async def _in_turn(self, work: Coroutine[Any, Any, Any]) -> Any:
        try:
            async with self._slots:
                await self._gate.idle()
                return await work
        finally:
            # Cancelled while waiting its turn: close the coroutine so it is not reported as never
            # awaited.
            work.close()
