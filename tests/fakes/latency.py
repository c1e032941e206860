"""A delay a fake server's handlers wait before answering, so tests can drive client timeouts."""

from __future__ import annotations

import asyncio

from aiohttp import web

from tests.fakes.http_server import Handler


class Latency:
    """`seconds` is read on every request, so a test can slow a running fake down."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, handler: Handler) -> Handler:
        async def delayed(request: web.Request) -> web.StreamResponse:
            if self.seconds:
                await asyncio.sleep(self.seconds)
            return await handler(request)

        return delayed
