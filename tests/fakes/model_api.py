"""What the fake model APIs (OpenAI, Anthropic) share: a script of answers per test, request checks
that answer with the provider's own 400 as the real API would, and a record of every byte received.

A test scripts what the model "says", in order: `Answer` (tool calls and text), `Failure` (an error
status with the provider's error body; 429 with retry-after), `Stall` (no answer until the client
gives up) or `Garbage` (a body that is not an answer). A request with nothing left in the script is
a test bug: it gets a 500 and lands in `violations`, as does any request the real API would refuse.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from aiohttp import web

from tests.fakes.http_server import FakeHttpServer, Recorded

TOOL_NAME = r"^[a-zA-Z0-9_-]{1,64}$"


@dataclass(frozen=True)
class Call:
    """A tool call; `arguments` as text is sent as it is (broken JSON, for OpenAI's formats)."""

    name: str
    arguments: dict[str, Any] | str


@dataclass(frozen=True)
class Answer:
    calls: tuple[Call, ...] = ()
    text: str = ""


FailureKind = Literal["rate_limited", "server_error", "overloaded", "unauthorized"]


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    retry_after: str | None = None


@dataclass(frozen=True)
class Stall:
    """Hold the answer back (until the fake stops), so the client's timeout fires."""


@dataclass(frozen=True)
class Garbage:
    body: str
    status: int = 200
    content_type: str = "application/json"


Scripted = Answer | Failure | Stall | Garbage


def answer(name: str, arguments: dict[str, Any] | str, *, text: str = "") -> Answer:
    """The model calls one tool."""
    return Answer((Call(name, arguments),), text)


class BadRequest(Exception):
    """A request the real API refuses with 400; `message` is its wording, `param` what it names."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


@dataclass
class Usage:
    input_tokens: int
    output_tokens: int


# Raises BadRequest for a request the real API refuses.
Check = Callable[[dict[str, Any]], None]
# The body of an answer, given the request; fills in the answer's output tokens.
Render = Callable[[dict[str, Any], Answer, Usage], dict[str, Any]]


class FakeModelApi(FakeHttpServer):
    """Subclasses declare their routes with `self.endpoint(path, check, render)`, where `check` raises
    BadRequest for a request the real API refuses and `render` turns an Answer into the body."""

    provider: str = ""

    def __init__(self, *, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.violations: list[str] = []
        # Each answer's token counts, as its body reported them.
        self.usages: list[Usage] = []
        # When each request came (the event loop's clock), to check that a retry waited.
        self.arrivals: list[float] = []
        self._script: deque[Scripted] = deque()
        self._released = asyncio.Event()
        self._ids = itertools.count(1)

    def then(self, *items: Scripted) -> None:
        """Answer the next requests with these, in order."""
        self._script.extend(items)

    @property
    def received(self) -> bytes:
        """Every byte of every request: method, path, headers and body."""
        return b"".join(_request_bytes(recorded) for recorded in self.requests)

    def bodies(self) -> list[dict[str, Any]]:
        return [recorded.body for recorded in self.requests if isinstance(recorded.body, dict)]

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._released.set()
        await super().__aexit__(exc_type, exc, tb)

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):04d}{secrets.token_hex(8)}"

    def endpoint(self, path: str, check: Check, render: Render) -> web.RouteDef:
        async def handle(request: web.Request) -> web.StreamResponse:
            self.arrivals.append(asyncio.get_running_loop().time())
            body = self.requests[-1].body
            try:
                if not isinstance(body, dict):
                    raise BadRequest("We could not parse the JSON body of your request.")
                check(body)
            except BadRequest as refused:
                self.violations.append(f"{path}: {refused.message}")
                return self.error_response(400, "invalid_request_error", refused.message, refused.param)
            return await self._scripted(body, render)

        return web.post(path, handle)

    async def _scripted(self, body: dict[str, Any], render: Render) -> web.StreamResponse:
        if not self._script:
            self.violations.append("a request came with nothing left in the script")
            return self.error_response(500, "server_error", "The fake has no scripted answer.")
        item = self._script.popleft()
        if isinstance(item, Stall):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), 60)
            return self.error_response(500, "server_error", "stalled")
        if isinstance(item, Garbage):
            return web.Response(status=item.status, text=item.body, content_type=item.content_type)
        if isinstance(item, Failure):
            return self.failure_response(item)
        usage = Usage(input_tokens=max(1, len(json.dumps(body)) // 4), output_tokens=0)
        rendered = render(body, item, usage)
        self.usages.append(usage)
        return web.json_response(rendered, headers=self.answer_headers())

    def check_auth(self, request: web.Request) -> web.StreamResponse | None:
        raise NotImplementedError

    def error_response(
        self,
        status: int,
        kind: str,
        message: str,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> web.StreamResponse:
        raise NotImplementedError

    def failure_response(self, failure: Failure) -> web.StreamResponse:
        raise NotImplementedError

    def answer_headers(self) -> dict[str, str]:
        return {}


def output_tokens(content: Any) -> int:
    """What the fake counts as the answer's tokens: a quarter of its JSON length, at least one."""
    return max(1, len(json.dumps(content)) // 4)


def _request_bytes(recorded: Recorded) -> bytes:
    headers = "".join(f"{name}: {value}\n" for name, value in recorded.headers.items())
    return f"{recorded.method} {recorded.path}\n{headers}\n".encode() + recorded.raw
