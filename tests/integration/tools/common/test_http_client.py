"""The shared REST client against a loopback server: retries, error messages, auth failures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from tests.fakes.http_server import FakeHttpServer
from tools.common.base import ToolError
from tools.common.http import HttpStatusError, JsonHttpClient
from tools.common.retries import RetryPolicy

FAST = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.2)


class Echo(FakeHttpServer):
    """Answers GET /items with its query and POST /items with its body; /slow never answers in time."""

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/items", self._list),
            web.post("/api/items", self._create),
            web.get("/api/slow", self._slow),
            web.get("/api/html", self._html),
        ]

    def check_auth(self, request: web.Request) -> web.StreamResponse | None:
        if request.headers.get("Authorization") != "Bearer good":
            return web.json_response({"message": "Bad credentials"}, status=401)
        return None

    async def _list(self, request: web.Request) -> web.Response:
        return web.json_response({"query": [[k, v] for k, v in request.query.items()]})

    async def _create(self, request: web.Request) -> web.Response:
        return web.json_response({"created": await request.json()}, status=201)

    async def _slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.json_response({})

    async def _html(self, request: web.Request) -> web.Response:
        return web.Response(text="<html>login</html>", content_type="text/html")


@pytest.fixture
async def server() -> AsyncIterator[Echo]:
    async with Echo() as echo:
        yield echo


def _client(server: Echo, token: str = "good", **kwargs: Any) -> JsonHttpClient:
    options: dict[str, Any] = {"retry": FAST, **kwargs}
    return JsonHttpClient(
        tool="demo",
        base_url=server.url + "/api",
        headers={"Authorization": f"Bearer {token}"},
        error_message=lambda body: body.get("message"),
        **options,
    )


async def test_get_sends_query_pairs_and_decodes_json(server: Echo) -> None:
    client = _client(server)
    try:
        body = await client.get("items", params={"state": "open", "draft": False, "skip": None, "l": [1, 2]})
    finally:
        await client.close()

    assert body == {"query": [["state", "open"], ["draft", "false"], ["l", "1"], ["l", "2"]]}


async def test_transient_errors_on_reads_are_retried(server: Echo) -> None:
    server.fail_next(503, {"message": "unavailable"}, times=2)
    client = _client(server)
    try:
        assert (await client.get("items"))["query"] == []
    finally:
        await client.close()

    assert len(server.calls("GET", "/api/items")) == 3


async def test_a_429_waits_what_retry_after_asks(server: Echo) -> None:
    server.fail_next(429, {"message": "slow down"}, headers={"Retry-After": "0.15"})
    client = _client(server)
    started = time.monotonic()
    try:
        await client.get("items")
    finally:
        await client.close()

    assert time.monotonic() - started >= 0.15


async def test_writes_are_not_retried_unless_repeatable(server: Echo) -> None:
    server.fail_next(502, "bad gateway", times=2)
    client = _client(server)
    try:
        with pytest.raises(HttpStatusError) as raised:
            await client.request("POST", "items", json_body={"n": 1})
        assert len(server.calls("POST", "/api/items")) == 1
        assert raised.value.message == "demo: POST items failed: HTTP 502: bad gateway"

        answer = await client.request("POST", "items", json_body={"n": 2}, repeatable=True)
    finally:
        await client.close()

    assert answer.status == 201
    assert answer.body == {"created": {"n": 2}}


async def test_errors_carry_the_apis_own_message_and_status(server: Echo) -> None:
    client = _client(server, token="bad")
    try:
        with pytest.raises(HttpStatusError) as raised:
            await client.get("items")
    finally:
        await client.close()

    assert raised.value.status == 401
    assert raised.value.body == {"message": "Bad credentials"}
    assert (
        raised.value.message == "demo: GET items failed: not authenticated (check the token): Bad credentials"
    )


async def test_an_answer_that_is_not_json_is_a_readable_error(server: Echo) -> None:
    client = _client(server)
    try:
        with pytest.raises(ToolError, match="demo: GET html answered with something that is not JSON"):
            await client.get("html")
    finally:
        await client.close()


async def test_a_slow_server_times_out_readably(server: Echo) -> None:
    client = _client(server, timeout=0.3)
    try:
        with pytest.raises(ToolError, match=r"demo: GET slow timed out after 0\.3s"):
            await client.get("slow")
    finally:
        await client.close()


async def test_an_unreachable_server_is_named() -> None:
    client = JsonHttpClient(tool="demo", base_url="http://127.0.0.1:9", retry=FAST)
    try:
        with pytest.raises(ToolError, match=r"demo: cannot reach http://127\.0\.0\.1:9"):
            await client.get("items")
    finally:
        await client.close()


async def test_rate_limit_reset_is_honoured_and_headers_are_kept(server: Echo) -> None:
    server.fail_next(
        429, {"message": "slow"}, headers={"ratelimit-reset": "0.15", "X-RateLimit-Remaining": "0"}
    )
    client = _client(server, retry=RetryPolicy(attempts=1))
    try:
        with pytest.raises(HttpStatusError) as raised:
            await client.get("items")
    finally:
        await client.close()

    assert raised.value.retry_after == 0.15
    assert raised.value.headers["x-ratelimit-remaining"] == "0"


async def test_statuses_left_out_of_retry_statuses_are_not_retried(server: Echo) -> None:
    server.fail_next(503, {"message": "query timed out"}, times=3)
    client = _client(server, retry_statuses=frozenset({502}))
    try:
        with pytest.raises(HttpStatusError):
            await client.get("items")
    finally:
        await client.close()

    assert len(server.calls("GET", "/api/items")) == 1


async def test_credentials_in_the_url_never_reach_an_error_message() -> None:
    client = JsonHttpClient(tool="demo", base_url="http://admin:hunter2@127.0.0.1:9", retry=FAST)
    try:
        with pytest.raises(ToolError) as raised:
            await client.get("items")
    finally:
        await client.close()

    assert "hunter2" not in raised.value.message
    assert "http://127.0.0.1:9" in raised.value.message
