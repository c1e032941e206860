"""Reading text/event-stream as the CLI does, over a real HTTP connection that cuts events anywhere."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.api.client import ApiFailed, ServerEvent, server_events


async def served(chunks: list[bytes]) -> AsyncIterator[ServerEvent]:
    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for chunk in chunks:
            await response.write(chunk)
            await asyncio.sleep(0)
        return response

    app = web.Application()
    app.router.add_get("/", stream)
    async with TestServer(app, host="127.0.0.1", port=0) as server, aiohttp.ClientSession() as session:
        async with session.get(server.make_url("/")) as response:
            async for event in server_events(response.content):
                yield event


async def collected(chunks: list[bytes]) -> list[ServerEvent]:
    return [event async for event in served(chunks)]


async def test_events_are_read_whatever_the_chunks_cut() -> None:
    body = b'retry: 2000\n\n: a comment\nevent: plan\ndata: {"a":\ndata: 1}\n\r\nevent: end\ndata: {}\n\n'

    whole = await collected([body])
    bytewise = await collected([body[i : i + 1] for i in range(len(body))])

    assert whole == bytewise == [ServerEvent("plan", '{"a":\n1}'), ServerEvent("end", "{}")]


async def test_an_event_without_data_or_cut_off_at_the_end_is_not_delivered() -> None:
    assert await collected([b"event: plan\n\n", b"event: end\ndata: {}"]) == []


async def test_an_event_larger_than_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.api.client.MAX_EVENT_BYTES", 64)

    many_small = b"".join(b"data: %d\n\n" % n for n in range(20))

    assert len(await collected([many_small])) == 20
    with pytest.raises(ApiFailed, match="larger than 64 bytes"):
        await collected([b"data: " + b"x" * 100])
    with pytest.raises(ApiFailed, match="larger than 64 bytes"):
        await collected([b"data: " + b"x" * 40 + b"\n", b"data: " + b"y" * 40 + b"\n"])
