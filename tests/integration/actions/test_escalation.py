"""Through Slack, on a fake clock: a plan nobody approves pings the approvers' user group in its
thread, then pages on-call through PagerDuty (Events v2, the fake), and expires when its approval
window closes, with a note on the card and in the thread; an approval or an edit stops or restarts
the escalation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from blocks import ids
from bot.db.models import AuditEvent, Plan, ScheduledJob
from bot.jobs import JobRunner
from bot.playground.slack.state import ALICE, BOB, OPS_CHANNEL
from bot.playground.slack.web_api import FakeSlack
from tests.fakes.clock import FakeClock
from tests.fakes.pagerduty import FakePagerDuty
from tests.harness import RunningBot, running_bot
from tests.integration.actions.workflow_support import prefilled

ROUTING_KEY = "R0UT1NGKEY0123456789abcdef012345"
APPROVERS = "S0APPROVERS"
RULES = {
    "usergroup": APPROVERS,
    "ping_after_seconds": 900,
    "page_after_seconds": 1800,
    "expire_after_seconds": 3600,
}
SCALE = "scale checkout to 5 in shop"


@pytest.fixture
async def pagerduty() -> AsyncIterator[FakePagerDuty]:
    async with FakePagerDuty() as server:
        server.add_service("PCHECKOUT", "Checkout", routing_key=ROUTING_KEY)
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def bot(
    database_url: str, tmp_path: Path, pagerduty: FakePagerDuty, clock: FakeClock
) -> AsyncIterator[RunningBot]:
    def approvers(slack: FakeSlack) -> None:
        slack.add_usergroup(APPROVERS, handle="approvers", users=[BOB])

    overrides = {
        "APPROVALS": json.dumps({"prod": RULES}),
        "PAGERDUTY_TOKEN": pagerduty.token,
        "PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
        "PAGERDUTY_API_URL": pagerduty.url,
        "PAGERDUTY_EVENTS_URL": pagerduty.url,
    }
    async with running_bot(
        database_url=database_url,
        tmp_path=tmp_path,
        overrides=overrides,
        prepare_slack=approvers,
        clock=clock,
    ) as running:
        yield running


def jobs(bot: RunningBot) -> JobRunner:
    runner = bot.carapulse.runtime.jobs
    assert runner is not None
    return runner


def thread_replies(bot: RunningBot) -> list[str]:
    messages = bot.slack.messages[OPS_CHANNEL].values()
    return [json.dumps(m["blocks"]) for m in messages if m.get("thread_ts", m["ts"]) != m["ts"]]


async def reply_saying(bot: RunningBot, words: str) -> str:
    return await bot.slack.wait_until(lambda: next((r for r in thread_replies(bot) if words in r), None))


async def jobs_of(bot: RunningBot) -> list[ScheduledJob]:
    async with bot.carapulse.runtime.sessions() as session:
        return list((await session.scalars(select(ScheduledJob).order_by(ScheduledJob.id))).all())


async def test_nobody_approves_so_it_pings_then_pages_then_expires(
    bot: RunningBot, clock: FakeClock, pagerduty: FakePagerDuty
) -> None:
    await bot.driver.slash_command(SCALE)
    card = await bot.card_text(1, "Awaiting approval")
    assert "The approval window closes <!date^" in card and "^{ago}|" in card

    await clock.advance(899)
    await jobs(bot).settle()
    assert thread_replies(bot) == []
    await clock.advance(2)
    ping = await reply_saying(bot, f"<!subteam^{APPROVERS}>")
    assert "is waiting for 1 more approval" in ping
    await bot.card_text(1, "Approvers pinged")
    assert pagerduty.events == []
    # Each job finishes before time jumps on: a jump past a running job's lease hands it out again.
    await jobs(bot).settle()

    await clock.advance(900)
    page = await reply_saying(bot, "on-call was paged through PagerDuty")
    [event] = pagerduty.events
    assert event["event_action"] == "trigger" and event["routing_key"] == ROUTING_KEY
    assert event["dedup_key"].endswith("-plan-1-v1-approval")
    assert (
        "Plan #1 (scale checkout to 5 replicas (shop)) in prod still needs 1 approval(s)"
        in (event["payload"]["summary"])
    )
    assert "approval window closes" in page
    await bot.card_text(1, "On-call paged through PagerDuty")
    await jobs(bot).settle()

    await clock.advance(1800)
    expired = await bot.card_text(1, "Expired")
    assert "Nobody let v1 run within its approval window (60m00s)" in expired
    assert ids.PLAN_APPROVE not in expired
    outcome = await reply_saying(bot, "Plan #1 expired")
    assert "nothing ran" in outcome
    async with bot.carapulse.runtime.sessions() as session:
        kinds = (await session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id))).all()
    assert [k for k in kinds if k in ("plan.escalated", "plan.expired")] == [
        "plan.escalated",
        "plan.escalated",
        "plan.expired",
    ]
    assert bot.kube.deployment("shop", "checkout")["spec"]["replicas"] == 2


async def test_an_approved_plan_is_not_escalated(bot: RunningBot, clock: FakeClock) -> None:
    await bot.driver.slash_command(SCALE)
    await bot.card_text(1, "Awaiting approval")
    await bot.driver.block_action(ids.PLAN_APPROVE, "1:1", user=BOB)
    await bot.card_text(1, "Succeeded")

    await clock.advance(3601)

    await jobs(bot).settle()
    assert [job.outcome for job in await jobs_of(bot)] == ["not needed: the plan is succeeded"] * 3
    assert not [r for r in thread_replies(bot) if "subteam" in r]


async def test_an_edit_restarts_the_window_for_the_new_version(bot: RunningBot, clock: FakeClock) -> None:
    await bot.driver.slash_command(SCALE)
    await bot.card_text(1, "Awaiting approval")
    await clock.advance(600)
    await bot.driver.block_action(ids.PLAN_EDIT, "1:1", user=ALICE)
    opened = await bot.slack.wait_for(lambda c: c.method == "views.open" and c.ok)
    view = opened.args["view"] if isinstance(opened.args["view"], dict) else json.loads(opened.args["view"])
    await bot.driver.view_submission(ids.PLAN_EDIT_MODAL, prefilled(view, count="7"), user=ALICE)
    await bot.card_text(1, "(v2)")

    await clock.advance(301)  # 15 minutes after v1, 5 after v2
    await jobs(bot).settle()
    assert (await jobs_of(bot))[0].outcome == "not needed: the plan was edited to v2"
    await clock.advance(600)  # 15 minutes after v2
    ping = await reply_saying(bot, f"<!subteam^{APPROVERS}>")

    assert "v2" in ping
    async with bot.carapulse.runtime.sessions() as session:
        assert (await session.scalar(select(Plan.status))) == "awaiting_approval"
