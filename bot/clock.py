"""The one place that reads the wall clock, so services and tests agree on UTC.

`Clock` is for the loops that wait until a moment (escalation steps, retries): they read the time
and wait through it, so a test can move time on with a fake clock instead of sleeping."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Protocol


def utcnow() -> datetime:
    return datetime.now(UTC)


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def wait(self, until: datetime, wake: asyncio.Event) -> None:
        """Return once `until` has come or `wake` is set, whichever is first."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return utcnow()

    async def wait(self, until: datetime, wake: asyncio.Event) -> None:
        seconds = (until - utcnow()).total_seconds()
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), seconds)
