import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot import executions, plans
from bot.db.engine import SessionFactory
from bot.db.models import Plan
from bot.domain import ExecutionStatus
from bot.notifier import Notifier
from bot.playground.slack.web_api import DEFAULT_TOKEN, FakeSlack
from bot.slack_clients import SingleWorkspace
from bot.tasks import TaskSupervisor
from tests.builders import BOB, POLICY, TEAM, finish_started_step, start_first_step, stored_plan

INTERVAL = 0.3


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake
        assert fake.violations == []


@pytest.fixture
async def notifier(sessions: SessionFactory, slack: FakeSlack) -> AsyncIterator[Notifier]:
    supervisor = TaskSupervisor()
    yield Notifier(
        clients=SingleWorkspace(AsyncWebClient(token=DEFAULT_TOKEN, base_url=slack.api_url)),
        sessions=sessions,
        supervisor=supervisor,
        min_interval=INTERVAL,
    )
    await supervisor.aclose()


async def test_a_burst_of_changes_is_coalesced_into_spaced_edits_of_the_latest_state(
    sessions: SessionFactory, notifier: Notifier, slack: FakeSlack
) -> None:
    plan_id = await stored_plan(sessions)
    await notifier.post_card(team_id=TEAM, plan_id=plan_id, channel_id="C0123OPSCHN", thread_ts=None)
    for _ in range(50):
        notifier.plan_changed(TEAM, plan_id)
        await asyncio.sleep(0.01)
    async with sessions.begin() as session:
        await plans.approve(session, plan_id=plan_id, approver=BOB, policy=POLICY)
    notifier.plan_changed(TEAM, plan_id)
    await notifier.settled(TEAM, plan_id)

    updates = slack.calls_to("chat.update")
    assert 1 <= len(updates) <= 4
    assert "Approved" in str(updates[-1].args["blocks"])


async def test_edits_of_one_card_are_at_least_the_interval_apart(
    sessions: SessionFactory, notifier: Notifier, slack: FakeSlack
) -> None:
    plan_id = await stored_plan(sessions)
    await notifier.post_card(team_id=TEAM, plan_id=plan_id, channel_id="C0123OPSCHN", thread_ts=None)
    arrivals: list[float] = []
    loop = asyncio.get_running_loop()
    for n in range(3):
        await rename(sessions, plan_id, f"scale checkout, take {n}")
        notifier.plan_changed(TEAM, plan_id)
        await slack.wait_for(lambda c: c.method == "chat.update", after=len(slack.calls))
        arrivals.append(loop.time())

    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert all(gap >= INTERVAL * 0.9 for gap in gaps), gaps


async def test_a_render_that_changed_nothing_costs_no_edit(
    sessions: SessionFactory, notifier: Notifier, slack: FakeSlack
) -> None:
    plan_id = await stored_plan(sessions)
    await notifier.post_card(team_id=TEAM, plan_id=plan_id, channel_id="C0123OPSCHN", thread_ts=None)
    await notifier.settled(TEAM, plan_id)

    notifier.plan_changed(TEAM, plan_id)
    await notifier.settled(TEAM, plan_id)
    await rename(sessions, plan_id, "scale checkout, renamed")
    notifier.plan_changed(TEAM, plan_id)
    await notifier.settled(TEAM, plan_id)

    [update] = slack.calls_to("chat.update")
    assert "scale checkout, renamed" in str(update.args["blocks"])


async def rename(sessions: SessionFactory, plan_id: int, summary: str) -> None:
    """A change the card shows (its header), without moving the plan along."""
    async with sessions.begin() as session:
        (await session.get_one(Plan, plan_id)).summary = summary


async def test_final_state_survives_rate_limits_and_server_errors(
    sessions: SessionFactory, notifier: Notifier, slack: FakeSlack
) -> None:
    plan_id = await stored_plan(sessions)
    await notifier.post_card(team_id=TEAM, plan_id=plan_id, channel_id="C0123OPSCHN", thread_ts=None)
    await notifier.settled(TEAM, plan_id)
    slack.fail_next("chat.update", status=500, times=2)
    slack.rate_limit_next("chat.update", retry_after=1, times=1)
    async with sessions.begin() as session:
        await plans.reject(session, plan_id=plan_id, actor=BOB, reason="wrong namespace")

    notifier.plan_finished(TEAM, plan_id)
    await notifier.settled(TEAM, plan_id)

    card = next(iter(slack.messages["C0123OPSCHN"].values()))
    assert "Rejected" in str(card["blocks"]) and "wrong namespace" in str(card["blocks"])
    outcome = [c for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert len(outcome) == 1 and "rejected" in outcome[0].args["text"]


LIFECYCLE = ["Awaiting approval", "Approved", "Running", "Succeeded"]


def stage_of(blocks: object) -> int:
    rendered = str(blocks)
    return max(n for n, label in enumerate(LIFECYCLE) if label in rendered)


async def test_every_card_converges_in_order_under_injected_429s_and_500s(
    sessions: SessionFactory, notifier: Notifier, slack: FakeSlack
) -> None:
    plan_ids = [await stored_plan(sessions, source_key=f"t{n}") for n in range(5)]
    for plan_id in plan_ids:
        await notifier.post_card(team_id=TEAM, plan_id=plan_id, channel_id="C0123OPSCHN", thread_ts=None)
    slack.inject_faults("chat.update", rate=0.3, seed=7, retry_after=1)

    for plan_id in plan_ids:
        async with sessions.begin() as session:
            await plans.approve(session, plan_id=plan_id, approver=BOB, policy=POLICY)
        notifier.plan_changed(TEAM, plan_id)
    for _ in plan_ids:
        async with sessions.begin() as session:
            lease = await executions.claim(await session.connection(), owner="w", lease_seconds=30)
        assert lease is not None
        notifier.plan_changed(TEAM, lease.plan_id)
        async with sessions.begin() as session:
            await executions.finish(await session.connection(), lease, status=ExecutionStatus.SUCCEEDED)
        notifier.plan_finished(TEAM, lease.plan_id)
    for plan_id in plan_ids:
        await notifier.settled(TEAM, plan_id)

    assert any(c.status == 429 for c in slack.calls_to("chat.update"))
    for ts, card in slack.messages["C0123OPSCHN"].items():
        if card.get("thread_ts", ts) != ts:
            continue
        assert "Succeeded" in str(card["blocks"])
        delivered = [
            stage_of(c.args["blocks"]) for c in slack.calls_to("chat.update") if c.ok and c.args["ts"] == ts
        ]
        assert delivered == sorted(delivered), delivered


async def finish_with_output(sessions: SessionFactory, plan_id: int, output: dict[str, object]) -> None:
    """Run the plan's first step by hand with `output` as its result, and end the execution."""
    async with sessions.begin() as session:
        await plans.approve(session, plan_id=plan_id, approver=BOB, policy=POLICY)
    async with sessions.begin() as session:
        lease, step = await start_first_step(session, owner="w")
        await finish_started_step(session, lease, step, summary="done", output=output)
        await executions.finish(await session.connection(), lease, status=ExecutionStatus.SUCCEEDED)


async def test_output_too_long_for_a_message_is_attached_in_the_thread(
    sessions: SessionFactory, notifier: Notifier, slack: FakeSlack
) -> None:
    plan_id = await stored_plan(sessions)
    card = await notifier.post_card(team_id=TEAM, plan_id=plan_id, channel_id="C0123OPSCHN", thread_ts=None)
    log_lines = "\n".join(f"line {n}: GET /checkout 200" for n in range(400))
    await finish_with_output(sessions, plan_id, {"logs": log_lines})

    notifier.plan_finished(TEAM, plan_id)
    await notifier.settled(TEAM, plan_id)

    [upload] = slack.uploaded_files
    assert (upload.channel, upload.thread_ts) == ("C0123OPSCHN", card.ts)
    assert upload.name == f"plan-{plan_id}-step-1-kubernetes.scale.txt"
    assert "line 399: GET /checkout 200" in upload.content.decode()


async def test_short_output_is_not_attached_and_a_refused_upload_does_not_stop_the_card(
    sessions: SessionFactory, notifier: Notifier, slack: FakeSlack
) -> None:
    short = await stored_plan(sessions)
    await notifier.post_card(team_id=TEAM, plan_id=short, channel_id="C0123OPSCHN", thread_ts=None)
    await finish_with_output(sessions, short, {"replicas": 5})
    notifier.plan_finished(TEAM, short)
    await notifier.settled(TEAM, short)
    assert slack.uploaded_files == []

    long = await stored_plan(sessions, source_key="trigger-2")
    await notifier.post_card(team_id=TEAM, plan_id=long, channel_id="C0123OPSCHN", thread_ts=None)
    await finish_with_output(sessions, long, {"logs": "x" * 5000})
    slack.fail_next("files.getUploadURLExternal", "file_uploads_disabled", status=200)
    notifier.plan_finished(TEAM, long)
    await notifier.settled(TEAM, long)

    assert slack.uploaded_files == []
    outcome = [c for c in slack.calls_to("chat.postMessage") if f"Plan #{long}" in c.args.get("text", "")]
    assert outcome, "the outcome reply is posted even though the attachment was refused"


async def test_a_replica_whose_edit_landed_late_edits_the_card_again(
    sessions: SessionFactory, slack: FakeSlack
) -> None:
    """Replica A renders a change, and its chat.update is held up (a 429 its client waits out, then
    sends the same body); meanwhile replica B makes and shows a newer change. A's stale edit lands
    last, so A, checking after it, edits once more."""
    supervisor = TaskSupervisor()
    late, other = (
        Notifier(
            clients=SingleWorkspace(client), sessions=sessions, supervisor=supervisor, min_interval=INTERVAL
        )
        for client in (_waiting_out_429s(slack), _waiting_out_429s(slack))
    )
    plan_id = await stored_plan(sessions)
    card = await late.post_card(team_id=TEAM, plan_id=plan_id, channel_id="C0123OPSCHN", thread_ts=None)
    await late.settled(TEAM, plan_id)

    slack.rate_limit_next("chat.update", retry_after=1)
    await rename(sessions, plan_id, "scale checkout, as first asked")
    late.plan_changed(TEAM, plan_id)
    await slack.wait_for(lambda c: c.method == "chat.update" and c.status == 429)
    await rename(sessions, plan_id, "scale checkout, as asked again")
    other.plan_changed(TEAM, plan_id)
    await other.settled(TEAM, plan_id)
    await late.settled(TEAM, plan_id)
    await supervisor.aclose()

    edits = [str(c.args["blocks"]) for c in slack.calls_to("chat.update") if c.ok]
    assert ["first asked" in e for e in edits] == [False, True, False]
    assert "as asked again" in str(slack.messages[card.channel_id][card.ts]["blocks"])


def _waiting_out_429s(slack: FakeSlack) -> AsyncWebClient:
    client = AsyncWebClient(token=DEFAULT_TOKEN, base_url=slack.api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return client
