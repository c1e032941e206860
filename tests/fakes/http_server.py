"""Base for the fake REST servers (Argo CD, GitHub, Grafana, PagerDuty, …): an aiohttp app on a
loopback port that records every request and can be told to answer the next calls with an error.

A subclass adds its routes in `routes()` and answers in the real API's shapes; this class owns the
port, the request log, auth checking and fault injection so no fake repeats them.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    # The body exactly as received, for tests that check what a client sent byte for byte.
    raw: bytes = b""


@dataclass
class Fault:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    path_prefix: str = ""


class FakeHttpServer:
    """`check_auth(request)` returns an error response for a request without valid credentials,
    or None; subclasses override it with their API's auth scheme and error body."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._faults: list[Fault] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    def check_auth(self, request: web.Request) -> web.StreamResponse | None:
        return None

    def fail_next(
        self,
        status: int,
        body: Any,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
        path_prefix: str = "",
    ) -> None:
        """Answer the next `times` requests (under `path_prefix`) with this error instead."""
        self._faults.append(Fault(status, body, headers or {}, times, path_prefix))

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    async def __aenter__(self) -> Self:
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(self.routes())
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        self.requests.append(
            Recorded(request.method, request.path, dict(request.query), dict(request.headers), body, raw)
        )
        fault = self._take_fault(request.path)
        if fault is not None:
            return _respond(fault.status, fault.body, fault.headers)
        denied = self.check_auth(request)
        if denied is not None:
            return denied
        return await handler(request)

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self._faults:
            if path.startswith(fault.path_prefix):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None


def _respond(status: int, body: Any, headers: dict[str, str]) -> web.StreamResponse:
    if isinstance(body, str):
        return web.Response(status=status, text=body, headers=headers)
    return web.json_response(body, status=status, headers=headers)
