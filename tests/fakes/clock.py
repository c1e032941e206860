"""A clock that stands still until a test moves it, for loops that wait until a moment."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.clock import utcnow


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or utcnow()
        self._moved = asyncio.Condition()

    def now(self) -> datetime:
        return self._now

    async def advance(self, seconds: float) -> None:
        """Move time on; every wait whose moment has come returns."""
        async with self._moved:
            self._now += timedelta(seconds=seconds)
            self._moved.notify_all()

    async def wait(self, until: datetime, wake: asyncio.Event) -> None:
        woken = asyncio.create_task(wake.wait())
        due = asyncio.create_task(self._reach(until))
        try:
            await asyncio.wait((woken, due), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (woken, due):
                task.cancel()
            await asyncio.gather(woken, due, return_exceptions=True)

    async def _reach(self, until: datetime) -> None:
        async with self._moved:
            await self._moved.wait_for(lambda: self._now >= until)
