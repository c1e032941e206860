"""A FakeHttpServer that can hold its next answers back, so a client's request timeout can be tested
against the same fake that serves the happy path."""

from __future__ import annotations

import asyncio

from aiohttp import web

from tests.fakes.http_server import FakeHttpServer, Handler


class StallingHttpServer(FakeHttpServer):
    """Subclasses declare routes with `self.route(...)`; `stall_next(seconds)` then delays the next
    answers by that long, after the request was recorded."""

    def __init__(self) -> None:
        super().__init__()
        self._stall_seconds = 0.0
        self._stalls_left = 0

    def stall_next(self, seconds: float, *, times: int = 1) -> None:
        self._stall_seconds = seconds
        self._stalls_left = times

    def route(self, method: str, path: str, handler: Handler) -> web.RouteDef:
        async def stalling(request: web.Request) -> web.StreamResponse:
            if self._stalls_left > 0:
                self._stalls_left -= 1
                await asyncio.sleep(self._stall_seconds)
            return await handler(request)

        return web.route(method, path, stalling)
