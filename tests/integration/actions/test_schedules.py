import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from blocks import ids
from bot.db.home_models import Schedule, ScheduleRun
from bot.db.models import Plan
from bot.playground.slack.state import ALICE, BOB
from bot.scheduler import CLAIM_LEASE, CLAIMED
from tests.fakes.clock import FakeClock
from tests.harness import RunningBot, running_bot

DAILY = 'schedule add "0 9 * * *" tz=Europe/Berlin scale checkout to 5 in shop'


def _input(value: str) -> dict:
    return {ids.FIELD_INPUT: {"type": "plain_text_input", "value": value}}


async def _schedule(bot: RunningBot, schedule_id: int = 1) -> Schedule:
    async with bot.carapulse.runtime.sessions() as session:
        return await session.get_one(Schedule, schedule_id)


async def _runs(bot: RunningBot) -> list[ScheduleRun]:
    async with bot.carapulse.runtime.sessions() as session:
        return list((await session.scalars(select(ScheduleRun).order_by(ScheduleRun.id))).all())


async def _plans(bot: RunningBot) -> list[Plan]:
    async with bot.carapulse.runtime.sessions() as session:
        return list((await session.scalars(select(Plan).order_by(Plan.id))).all())


async def _fire_at(bot: RunningBot, moment: datetime) -> list[ScheduleRun]:
    """One pass of the bot's scheduler with its clock at `moment`; every run stored so far."""
    scheduler = bot.carapulse.runtime.scheduler
    assert scheduler is not None
    scheduler.clock = FakeClock(moment)
    await scheduler.fire_due(bot.carapulse.runtime)
    await bot.carapulse.runtime.supervisor.drain()
    return await _runs(bot)


async def _made(bot: RunningBot, command: str = DAILY) -> Schedule:
    await bot.driver.slash_command(command)
    await bot.slack.wait_until(lambda: bot.slack.responses)
    return await _schedule(bot)


async def test_a_due_schedule_plans_its_request_once_as_its_creator(bot: RunningBot) -> None:
    schedule = await _made(bot)
    due = schedule.next_run_at
    scheduler = bot.carapulse.runtime.scheduler
    assert due is not None and scheduler is not None

    # The running loop, woken with its clock past the due time, fires it.
    scheduler.clock = FakeClock(due + timedelta(seconds=1))
    scheduler.wake()
    card = await bot.card_text(1, "Awaiting approval")
    await scheduler.settled()
    runs = await _fire_at(bot, due + timedelta(seconds=2))

    [plan] = await _plans(bot)
    [run] = runs
    assert (plan.requester_id, plan.channel_id, plan.intent) == (
        ALICE,
        "C0123OPSCHN",
        "scale checkout to 5 in shop",
    )
    assert (run.state, run.plan_id, run.missed, run.due_at) == ("planned", plan.id, 0, due)
    assert "plan_approve" in card
    assert due.astimezone(ZoneInfo("Europe/Berlin")).hour == 9
    after = await _schedule(bot)
    assert after.next_run_at == due + timedelta(days=1)


async def test_missed_runs_after_a_restart_fire_once_and_are_counted(
    database_url: str, tmp_path: Path
) -> None:
    async with running_bot(database_url=database_url, tmp_path=tmp_path) as first:
        schedule = await _made(first, 'schedule add "0 * * * *" pods of checkout in shop')
    due = schedule.next_run_at
    assert due is not None

    # Down for three due times and a half: 1 run, standing for the two before the latest.
    async with running_bot(database_url=database_url, tmp_path=tmp_path) as second:
        [run] = await _fire_at(second, due + timedelta(hours=2, minutes=30))
        after = await _schedule(second)
        await second.driver.slash_command("schedule show 1")
        shown = await second.slack.wait_until(lambda: second.slack.responses)

    assert (run.due_at, run.missed, run.state) == (due + timedelta(hours=2), 2, "planned")
    assert after.next_run_at == due + timedelta(hours=3)
    assert "stands for 2 earlier due times missed while down" in str(shown[0].body["blocks"])


async def test_two_replicas_fire_each_due_run_once(database_url: str, tmp_path: Path) -> None:
    for replica in ("a", "b"):
        (tmp_path / replica).mkdir()
    async with (
        running_bot(database_url=database_url, tmp_path=tmp_path / "a") as one,
        running_bot(database_url=database_url, tmp_path=tmp_path / "b") as two,
    ):
        schedule = await _made(one, 'schedule add "*/5 * * * *" pods of checkout in shop')
        due = schedule.next_run_at
        assert due is not None
        for n in range(4):
            moment = due + timedelta(minutes=5 * n, seconds=1)
            schedulers = [bot.carapulse.runtime.scheduler for bot in (one, two)]
            for scheduler in schedulers:
                scheduler.clock = FakeClock(moment)  # type: ignore[union-attr]
            await asyncio.gather(
                *(s.fire_due(b.carapulse.runtime) for s, b in zip(schedulers, (one, two), strict=True))
            )  # type: ignore[union-attr]
        await one.carapulse.runtime.supervisor.drain()
        await two.carapulse.runtime.supervisor.drain()
        runs, plans = await _runs(one), await _plans(one)
        cards = [
            call
            for bot in (one, two)
            for call in bot.slack.calls_to("chat.postMessage")
            if call.args.get("text", "").startswith("Plan #") and "thread_ts" not in call.args
        ]

    assert [run.due_at for run in runs] == [due + timedelta(minutes=5 * n) for n in range(4)]
    assert {run.state for run in runs} == {"planned"} and len(plans) == 4
    assert len(cards) == 4
    assert {run.claimed_by for run in runs} <= {
        one.carapulse.runtime.scheduler.owner,  # type: ignore[union-attr]
        two.carapulse.runtime.scheduler.owner,  # type: ignore[union-attr]
    }


async def test_a_run_whose_replica_died_is_planned_once_its_lease_expires(bot: RunningBot) -> None:
    schedule = await _made(bot)
    due = schedule.next_run_at
    assert due is not None
    async with bot.carapulse.runtime.sessions.begin() as session:
        session.add(
            ScheduleRun(
                team_id=schedule.team_id,
                schedule_id=schedule.id,
                due_at=due,
                kind="cron",
                state=CLAIMED,
                missed=0,
                actor_id=ALICE,
                claimed_by="dead-replica",
                lease_expires_at=due + CLAIM_LEASE,
                created_at=due,
            )
        )
        (await session.get_one(Schedule, schedule.id)).next_run_at = due + timedelta(days=1)

    [run] = await _fire_at(bot, due + CLAIM_LEASE + timedelta(seconds=1))

    assert (run.state, run.claimed_by) == ("planned", bot.carapulse.runtime.scheduler.owner)  # type: ignore[union-attr]
    assert len(await _plans(bot)) == 1


async def test_read_only_schedule_runs_without_approval(bot: RunningBot) -> None:
    schedule = await _made(bot, 'schedule add "0 9 * * *" pods of checkout in shop')
    assert schedule.next_run_at is not None

    await _fire_at(bot, schedule.next_run_at)

    await bot.card_text(1, "Succeeded")


async def test_policy_applies_when_the_schedule_fires(bot: RunningBot) -> None:
    # Bob may approve but not plan writes: his schedule is refused when due, and says why.
    await bot.driver.slash_command(DAILY, user=BOB)
    await bot.slack.wait_until(lambda: bot.slack.responses)
    schedule = await _schedule(bot)
    assert schedule.next_run_at is not None

    [run] = await _fire_at(bot, schedule.next_run_at)

    assert run.state == "failed" and run.plan_id is None
    assert "operator" in run.detail
    assert await _plans(bot) == []


async def test_run_now_plans_as_whoever_asked_and_only_the_creator_may_pause(bot: RunningBot) -> None:
    schedule = await _made(bot)
    due = schedule.next_run_at
    assert due is not None

    await bot.driver.slash_command("schedule run 1", user=BOB)
    ran = await bot.slack.wait_until(lambda: len(bot.slack.responses) >= 2 and bot.slack.responses[1])
    await bot.driver.slash_command("schedule pause 1", user=BOB)
    refused = await bot.slack.wait_until(lambda: len(bot.slack.responses) >= 3 and bot.slack.responses[2])
    await bot.driver.slash_command("schedule pause 1")
    paused = await bot.slack.wait_until(lambda: len(bot.slack.responses) >= 4 and bot.slack.responses[3])
    await _fire_at(bot, due + timedelta(days=3))

    # Bob may not plan writes: run now plans as him, so policy refuses it and the run says why.
    assert "operator" in ran.body["text"] and ":warning:" in ran.body["text"]
    assert "Only <@U0123ALICE1>" in refused.body["text"]
    assert paused.body["text"] == "Paused schedule #1."
    assert (await _schedule(bot)).next_run_at is None
    assert [(run.kind, run.actor_id, run.state) for run in await _runs(bot)] == [("manual", BOB, "failed")]
    assert await _plans(bot) == []


async def test_run_now_plans_at_once_and_leaves_the_next_due_time(bot: RunningBot) -> None:
    schedule = await _made(bot)

    await bot.driver.slash_command("schedule run 1")
    ran = await bot.slack.wait_until(lambda: len(bot.slack.responses) >= 2 and bot.slack.responses[1])

    assert "plan #1" in ran.body["text"]
    assert (await _plans(bot))[0].requester_id == ALICE
    assert (await _schedule(bot)).next_run_at == schedule.next_run_at
    await bot.card_text(1, "Awaiting approval")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("schedule add 0 9 * * * scale checkout to 5 in shop", "Put the cron expression in quotes"),
        ('schedule add "0 9 * *" scale checkout to 5 in shop', "is not a cron expression of five fields"),
        ('schedule add "61 9 * * *" scale checkout to 5 in shop', "is not a cron expression"),
        ('schedule add "* * * * *" scale checkout to 5 in shop', "fires more often than every 5 minutes"),
        ('schedule add "0 9 * * *" tz=Mars/Olympus scale checkout to 5', "is not a time zone"),
        ('schedule add "0 9 * * *"', "Say what to plan"),
        ('schedule add "0 9 * * *" make checkout faster', "I could not read a plan"),
        ('schedule add "0 9 * * *" workflow start nonesuch', "There is no workflow `nonesuch`"),
        ("schedule pause", "needs a schedule id"),
        ("schedule frobnicate 1", "Use `/carapulse schedule add"),
    ],
)
async def test_bad_schedule_commands_are_answered_inside_the_ack(
    bot: RunningBot, text: str, expected: str
) -> None:
    response = await bot.driver.slash_command(text)

    assert expected in response.json()["text"]
    assert await bot.count(Schedule) == 0


async def test_schedule_modal_refuses_bad_fields_and_makes_a_good_one(bot: RunningBot) -> None:
    await bot.driver.slash_command("schedule new")
    await bot.slack.wait_for(lambda c: c.method == "views.open" and c.ok)
    form = {
        ids.SCHEDULE_CRON_BLOCK: _input("*/1 * * * *"),
        ids.SCHEDULE_TZ_BLOCK: _input("UTC"),
        ids.SCHEDULE_REQUEST_BLOCK: _input("scale checkout to 5 in shop"),
    }

    refused = await bot.driver.view_submission(ids.SCHEDULE_MODAL, form, user=ALICE)
    bad_request = await bot.driver.view_submission(
        ids.SCHEDULE_MODAL,
        {**form, ids.SCHEDULE_CRON_BLOCK: _input("30 6 * * 1"), ids.SCHEDULE_REQUEST_BLOCK: _input("hmm")},
        user=ALICE,
    )
    accepted = await bot.driver.view_submission(
        ids.SCHEDULE_MODAL, {**form, ids.SCHEDULE_CRON_BLOCK: _input("30 6 * * 1")}, user=ALICE
    )
    told = await bot.slack.wait_for(lambda c: c.method == "chat.postEphemeral" and c.ok)

    assert "fires more often" in refused.json()["errors"][ids.SCHEDULE_CRON_BLOCK]
    assert "I could not read a plan" in bad_request.json()["errors"][ids.SCHEDULE_REQUEST_BLOCK]
    assert accepted.body == ""
    assert "Schedule made. *#1* `30 6 * * 1`" in told.args["text"]
    schedule = await _schedule(bot)
    assert schedule.next_run_at is not None and schedule.next_run_at.weekday() == 0
    assert schedule.next_run_at > datetime.now(UTC)
