"""The event stream of a plan: woken by each change rather than polling, ending with the plan's
final state; rereading on a timer for changes made by other processes; closed on shutdown."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import update

from blocks import ids
from bot.api.client import ServerEvent
from bot.clock import utcnow
from bot.db.models import Plan
from bot.domain import PlanStatus
from bot.playground.slack.state import BOB
from tests.integration.api.conftest import ApiBot, started_api
from tests.integration.api.test_plan_routes import SCALE

LIFECYCLE = ["awaiting_approval", "approved", "running", "succeeded"]


class Collector:
    """Reads a plan's stream in the background; `first` is set once the first event is in."""

    def __init__(self, api: ApiBot, plan_id: int) -> None:
        self.events: list[ServerEvent] = []
        self.first = asyncio.Event()
        self.task = asyncio.create_task(self._collect(api, plan_id))

    @property
    def statuses(self) -> list[str]:
        return [json.loads(event.data)["status"] for event in self.events]

    async def _collect(self, api: ApiBot, plan_id: int) -> None:
        async with api.events(plan_id) as events:
            async for event in events:
                self.events.append(event)
                self.first.set()

    async def until_closed(self, timeout: float = 30) -> list[ServerEvent]:  # noqa: ASYNC109
        await asyncio.wait_for(self.task, timeout)
        return self.events


async def test_the_stream_follows_each_change_and_ends_with_the_final_state(api: ApiBot) -> None:
    plan_id = (await api.call("POST", "/api/v1/plans", json=SCALE)).body["id"]
    stream = Collector(api, plan_id)
    await asyncio.wait_for(stream.first.wait(), 10)

    await api.bot.driver.block_action(ids.PLAN_APPROVE, str(plan_id), user=BOB)

    # Rereads are 600 s apart here: only the wake-ups on each change can have moved the stream.
    events = await stream.until_closed()
    assert [e.event for e in events[:-1]] == ["plan"] * (len(events) - 1)
    assert events[-1].event == "end"
    assert stream.statuses[0] == "awaiting_approval" and stream.statuses[-1] == "succeeded"
    assert [LIFECYCLE.index(status) for status in stream.statuses] == sorted(
        LIFECYCLE.index(status) for status in stream.statuses
    )
    final = json.loads(events[-1].data)
    assert final["final"] is True and final["execution"]["status"] == "succeeded"


async def test_a_plan_that_has_ended_is_one_end_event(api: ApiBot) -> None:
    plan_id = (await api.call("POST", "/api/v1/plans", json=SCALE)).body["id"]
    await api.call("POST", f"/api/v1/plans/{plan_id}/cancel")

    events = await Collector(api, plan_id).until_closed()

    assert [(e.event, json.loads(e.data)["status"]) for e in events] == [("end", "cancelled")]


async def test_a_change_made_by_another_process_is_found_by_the_recheck(
    database_url: str, tmp_path: Path
) -> None:
    async with started_api(database_url, tmp_path, API_EVENTS_RECHECK_SECONDS="0.2") as api:
        plan_id = (await api.call("POST", "/api/v1/plans", json=SCALE)).body["id"]
        stream = Collector(api, plan_id)
        await asyncio.wait_for(stream.first.wait(), 10)
        # As another process would: in the database, with no wake-up in this one.
        async with api.bot.carapulse.runtime.sessions.begin() as session:
            await session.execute(
                update(Plan).values(
                    status=PlanStatus.REJECTED, status_reason="elsewhere", finished_at=utcnow()
                )
            )

        events = await stream.until_closed()

    assert [e.event for e in events] == ["plan", "end"]
    assert json.loads(events[-1].data)["status_reason"] == "elsewhere"


async def test_shutting_down_closes_open_streams_without_an_end(api: ApiBot) -> None:
    plan_id = (await api.call("POST", "/api/v1/plans", json=SCALE)).body["id"]
    stream = Collector(api, plan_id)
    await asyncio.wait_for(stream.first.wait(), 10)
    service = api.bot.carapulse.api
    assert service is not None

    await service.aclose()

    events = await stream.until_closed(timeout=10)
    assert [e.event for e in events] == ["plan"]


async def test_unknown_plans_and_missing_credentials_are_refused_before_the_stream(api: ApiBot) -> None:
    unknown = await api.call("GET", "/api/v1/plans/999/events")
    anonymous = await api.call("GET", "/api/v1/plans/1/events", token="")

    assert (unknown.status, unknown.body["error"]) == (404, "not_found")
    assert (anonymous.status, anonymous.body["error"]) == (401, "unauthorized")
