"""`wait` rides out a restarting server: a 5xx or a stream closed before the plan ended is retried,
a refusal is not, and too many failures in a row give up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.api import plan_cli
from bot.api.client import ApiClient, ApiFailed
from bot.api.models import PlanOut
from bot.domain import PlanStatus

Reply = Callable[[web.Request], web.StreamResponse]


def plan(status: PlanStatus) -> PlanOut:
    return PlanOut(
        id=7,
        status=status,
        final=status.is_final,
        summary="Scale checkout to 5",
        intent="scale checkout to 5 in shop",
        requester_id="token:deploy",
        target={"environment": "prod", "namespace": "shop", "name": "checkout"},
        risk={"level": "medium", "blast_radius": "namespace", "targets": ["deployment/shop/checkout"]},
        decision={"allow": True, "required_approvals": 1},
        rollback="scale back to 2",
        steps=[],
        approvals=[],
        created_at=datetime(2026, 12, 7, tzinfo=UTC),
    )


def stream(*events: tuple[str, PlanStatus]) -> bytes:
    return b"".join(
        f"event: {name}\ndata: {plan(status).model_dump_json()}\n\n".encode() for name, status in events
    )


@asynccontextmanager
async def server(replies: list[tuple[int, bytes]]) -> AsyncIterator[ApiClient]:
    """Answers each request to the event stream with the next reply (status, body) in turn."""
    pending = list(replies)

    async def events(request: web.Request) -> web.StreamResponse:
        status, body = pending.pop(0)
        if status != 200:
            return web.json_response(
                {"error": "e", "message": f"status {status}", "problems": {}}, status=status
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(body)
        return response

    app = web.Application()
    app.router.add_get("/api/v1/plans/7/events", events)
    async with TestServer(app, host="127.0.0.1", port=0) as running, aiohttp.ClientSession() as session:
        yield ApiClient(session, base_url=str(running.make_url("/")), token="cpt_test")


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_cli, "MAX_BACKOFF_SECONDS", 0.01)


async def test_a_server_error_and_a_stream_closed_early_are_retried_until_the_end() -> None:
    replies = [
        (503, b""),
        (200, stream(("plan", PlanStatus.AWAITING_APPROVAL))),
        (200, stream(("plan", PlanStatus.RUNNING), ("end", PlanStatus.SUCCEEDED))),
    ]
    seen: list[PlanOut] = []
    async with server(replies) as client:
        final = await plan_cli._follow_until_final(client, 7, seen)

    assert final.status == PlanStatus.SUCCEEDED
    assert [p.status for p in seen] == [
        PlanStatus.AWAITING_APPROVAL,
        PlanStatus.RUNNING,
        PlanStatus.SUCCEEDED,
    ]


async def test_a_refusal_is_not_retried() -> None:
    async with server([(401, b""), (200, stream(("end", PlanStatus.SUCCEEDED)))]) as client:
        with pytest.raises(ApiFailed) as refused:
            await plan_cli._follow_until_final(client, 7, [])

    assert refused.value.status == 401


async def test_too_many_failures_in_a_row_give_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_cli, "MAX_RECONNECTS", 2)

    async with server([(502, b"")] * 3) as client:
        with pytest.raises(ApiFailed, match="gave up following plan #7 after 2 reconnects: status 502"):
            await plan_cli._follow_until_final(client, 7, [])
