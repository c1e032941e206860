from datetime import timedelta

import pytest

from bot import schedules
from bot.db.engine import SessionFactory
from bot.domain import Actor
from bot.errors import NotFound
from tests.builders import ALICE, POLICY, TEAM

OTHER = Actor(team_id="T0999OTHER9", user_id="U0999OTHER9")


async def test_a_workspace_sees_and_changes_only_its_own_schedules(sessions: SessionFactory) -> None:
    async with sessions.begin() as session:
        ours = await schedules.create(
            session,
            actor=ALICE,
            cron="0 9 * * *",
            timezone="UTC",
            request="pods of checkout",
            channel_id="C1",
        )
        theirs = await schedules.create(
            session, actor=OTHER, cron="0 10 * * *", timezone="UTC", request="pods of cart", channel_id="C2"
        )

    async with sessions() as session:
        listed = await schedules.listing(session, team_id=TEAM)
        upcoming = await schedules.upcoming(session, team_id=TEAM, limit=10)
        history = await schedules.history(session, team_id=TEAM, schedule_id=theirs.id)
        with pytest.raises(NotFound):
            await schedules.get(session, team_id=TEAM, schedule_id=theirs.id)
    for change in (
        lambda s: schedules.set_enabled(s, actor=ALICE, policy=POLICY, schedule_id=theirs.id, enabled=False),
        lambda s: schedules.delete(s, actor=ALICE, policy=POLICY, schedule_id=theirs.id),
    ):
        async with sessions.begin() as session:
            with pytest.raises(NotFound):
                await change(session)

    assert [s.id for s in listed.items] == [ours.id]
    assert [s.id for s in upcoming] == [ours.id]
    assert history.items == []


async def test_resuming_starts_from_now_and_does_not_make_up_paused_time(sessions: SessionFactory) -> None:
    async with sessions.begin() as session:
        made = await schedules.create(
            session,
            actor=ALICE,
            cron="*/5 * * * *",
            timezone="UTC",
            request="pods of checkout",
            channel_id="C1",
        )
    async with sessions.begin() as session:
        paused = await schedules.set_enabled(
            session, actor=ALICE, policy=POLICY, schedule_id=made.id, enabled=False
        )
    async with sessions.begin() as session:
        resumed = await schedules.set_enabled(
            session, actor=ALICE, policy=POLICY, schedule_id=made.id, enabled=True
        )

    assert paused.next_run_at is None and not paused.enabled
    assert resumed.next_run_at is not None and made.next_run_at is not None
    assert resumed.next_run_at - made.next_run_at < timedelta(minutes=5, seconds=1)
