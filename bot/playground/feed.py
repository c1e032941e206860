"""The page's change counter: every change to what someone may see bumps it, and each event stream
waits for it to move past the version it last sent."""

from __future__ import annotations

import asyncio


class Feed:
    def __init__(self) -> None:
        self.version = 0
        self._moved = asyncio.Event()

    def bump(self) -> None:
        self.version += 1
        self._moved.set()
        self._moved = asyncio.Event()

    async def wait_past(self, version: int, *, timeout: float) -> int:  # noqa: ASYNC109
        """The current version once it is past `version`, or after `timeout` seconds whatever it is
        (the caller sends a keep-alive then)."""
        if self.version == version:
            moved = self._moved
            try:
                await asyncio.wait_for(moved.wait(), timeout)
            except TimeoutError:
                pass
        return self.version
