"""Change sessions in the database, on both databases: one open per channel or thread (also when
two starts race), members and their roles, plans linked where they were made, who may change a
session, and its timeline with the incidents of its channel."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot import change_sessions, plan_links, session_timeline
from bot.audit import AuditKind
from bot.clock import utcnow
from bot.db.engine import SessionFactory
from bot.db.models import AuditEvent, Incident
from bot.db.session_models import ChangeSession
from bot.domain import Actor, SessionRole
from bot.errors import Conflict, NotFound, PolicyDenied, UserError
from tests.builders import ALICE, BOB, CAROL, TEAM, policy, stored_plan

CHANNEL = "C0123OPSCHN"
OTHER_CHANNEL = "C0999OTHER9"
THREAD = "1767225600.000100"
OTHER_TEAM = Actor(team_id="T0999OTHER9", user_id="U0999OTHER9")
# CAROL is the admin; everyone else holds the default roles.
POLICY = policy(roles={CAROL.user_id: ["admin"]})


async def _start(
    sessions: SessionFactory,
    *,
    actor: Actor = ALICE,
    name: str = "db migration",
    channel_id: str = CHANNEL,
    thread_ts: str | None = None,
    members: dict[str, SessionRole] | None = None,
) -> int:
    async with sessions.begin() as session:
        row = await change_sessions.start(
            session, actor=actor, name=name, channel_id=channel_id, thread_ts=thread_ts, members=members
        )
        return row.id


async def _link(sessions: SessionFactory, plan_id: int, thread_ts: str | None, actor: Actor = ALICE) -> None:
    async with sessions.begin() as session:
        await plan_links.link_plan(
            session, team_id=actor.team_id, channel_id=CHANNEL, thread_ts=thread_ts, plan_id=plan_id
        )


async def test_one_open_session_per_channel_and_per_thread(sessions: SessionFactory) -> None:
    first = await _start(sessions)
    in_thread = await _start(sessions, name="in a thread", thread_ts=THREAD)
    elsewhere = await _start(sessions, channel_id=OTHER_CHANNEL)
    theirs = await _start(sessions, actor=OTHER_TEAM)

    with pytest.raises(Conflict, match="already has an open session, \\*db migration\\*"):
        await _start(sessions, actor=BOB, name="again")
    async with sessions.begin() as session:
        await change_sessions.end(session, actor=ALICE, policy=POLICY, session_id=first)
    after_end = await _start(sessions, name="the next one")

    assert len({first, in_thread, elsewhere, theirs, after_end}) == 5


async def test_two_starts_racing_open_one_session(sessions: SessionFactory) -> None:
    outcomes = await asyncio.gather(
        _start(sessions, name="one"), _start(sessions, actor=BOB, name="two"), return_exceptions=True
    )

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Conflict", "int"]
    async with sessions() as session:
        assert len((await session.scalars(select(ChangeSession))).all()) == 1


async def test_plans_link_to_the_threads_session_else_the_channels(sessions: SessionFactory) -> None:
    channel_session = await _start(sessions)
    thread_session = await _start(sessions, name="thread work", thread_ts=THREAD)
    in_thread = await stored_plan(sessions, source_key="t1")
    in_other_thread = await stored_plan(sessions, source_key="t2")
    in_channel = await stored_plan(sessions, source_key="t3")

    await _link(sessions, in_thread, THREAD)
    await _link(sessions, in_other_thread, "1767225600.000900")
    await _link(sessions, in_channel, None)

    async with sessions() as session:
        names = [
            await change_sessions.name_for_plan(session, team_id=TEAM, plan_id=plan_id)
            for plan_id in (in_thread, in_other_thread, in_channel)
        ]
        channel_view = await change_sessions.view(
            session, row=await change_sessions.get(session, team_id=TEAM, session_id=channel_session)
        )
        thread_view = await change_sessions.view(
            session, row=await change_sessions.get(session, team_id=TEAM, session_id=thread_session)
        )
        with pytest.raises(NotFound):
            await change_sessions.get(session, team_id=OTHER_TEAM.team_id, session_id=channel_session)

    assert names == ["thread work", "db migration", "db migration"]
    assert [plan.id for plan in channel_view.plans] == [in_other_thread, in_channel]
    assert [plan.id for plan in thread_view.plans] == [in_thread]
    assert channel_view.plans_total == 2


async def test_a_plan_outside_any_session_links_to_none(sessions: SessionFactory) -> None:
    plan_id = await stored_plan(sessions)

    await _link(sessions, plan_id, None)

    async with sessions() as session:
        assert await change_sessions.name_for_plan(session, team_id=TEAM, plan_id=plan_id) == ""


async def test_only_a_lead_or_an_admin_changes_members_or_ends_it(sessions: SessionFactory) -> None:
    session_id = await _start(
        sessions, members={ALICE.user_id: SessionRole.LEAD, BOB.user_id: SessionRole.SCRIBE}
    )

    async with sessions.begin() as session:
        with pytest.raises(PolicyDenied, match="Only a lead of \\*db migration\\*"):
            await change_sessions.end(session, actor=BOB, policy=POLICY, session_id=session_id)
        with pytest.raises(PolicyDenied):
            await change_sessions.set_members(
                session,
                actor=BOB,
                policy=POLICY,
                session_id=session_id,
                members={BOB.user_id: SessionRole.LEAD},
            )
    async with sessions.begin() as session:
        change = await change_sessions.set_members(
            session,
            actor=CAROL,
            policy=POLICY,
            session_id=session_id,
            members={ALICE.user_id: SessionRole.LEAD, BOB.user_id: SessionRole.OPERATOR},
        )
    async with sessions.begin() as session:
        await change_sessions.end(session, actor=ALICE, policy=POLICY, session_id=session_id)
    async with sessions.begin() as session:
        with pytest.raises(Conflict, match="already ended"):
            await change_sessions.end(session, actor=ALICE, policy=POLICY, session_id=session_id)

    assert change.joined == [(BOB.user_id, SessionRole.OPERATOR)] and change.left == [BOB.user_id]


async def test_every_session_event_is_audited(sessions: SessionFactory) -> None:
    session_id = await _start(sessions)
    plan_id = await stored_plan(sessions)
    await _link(sessions, plan_id, None)
    async with sessions.begin() as session:
        await change_sessions.set_members(
            session,
            actor=ALICE,
            policy=POLICY,
            session_id=session_id,
            members={BOB.user_id: SessionRole.LEAD},
        )
        await change_sessions.end(session, actor=BOB, policy=POLICY, session_id=session_id)

    async with sessions() as session:
        events = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.kind.like("session.%")).order_by(AuditEvent.id)
            )
        ).all()

    assert [(e.kind, e.actor_id, e.detail.get("user_id")) for e in events] == [
        (AuditKind.SESSION_STARTED, ALICE.user_id, None),
        (AuditKind.SESSION_MEMBER_JOINED, ALICE.user_id, ALICE.user_id),
        (AuditKind.SESSION_PLAN_LINKED, "carapulse", None),
        (AuditKind.SESSION_MEMBER_LEFT, ALICE.user_id, ALICE.user_id),
        (AuditKind.SESSION_MEMBER_JOINED, ALICE.user_id, BOB.user_id),
        (AuditKind.SESSION_ENDED, BOB.user_id, None),
    ]
    assert events[2].plan_id == plan_id and all(e.detail["session_id"] == session_id for e in events)


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "Name the session"), ("   ", "Name the session"), ("x" * 81, "at most 80 characters")],
)
async def test_bad_names_are_refused(sessions: SessionFactory, name: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        await _start(sessions, name=name)


def test_a_roster_needs_a_lead_and_one_role_each() -> None:
    with pytest.raises(change_sessions.RosterError, match="needs a lead") as no_lead:
        change_sessions.roster({SessionRole.OPERATOR: [BOB.user_id]})
    with pytest.raises(change_sessions.RosterError, match="already a lead") as twice:
        change_sessions.roster({SessionRole.LEAD: [ALICE.user_id], SessionRole.COMMS: [ALICE.user_id]})

    assert no_lead.value.role == SessionRole.LEAD and twice.value.role == SessionRole.COMMS


async def test_timeline_holds_start_members_plans_incidents_and_end_in_time_order(
    sessions: SessionFactory,
) -> None:
    before = utcnow() - timedelta(minutes=30)
    session_id = await _start(sessions)
    async with sessions.begin() as session:
        session.add(_incident(1, "already firing", CHANNEL, started=before, resolved=utcnow()))
        session.add(_incident(2, "other channel", OTHER_CHANNEL, started=utcnow()))
        session.add(_incident(3, "new alert", CHANNEL, started=utcnow()))
    plan_id = await stored_plan(sessions)
    await _link(sessions, plan_id, None)
    async with sessions.begin() as session:
        row = await change_sessions.end(session, actor=ALICE, policy=POLICY, session_id=session_id)
    async with sessions.begin() as session:
        session.add(_incident(4, "after the end", CHANNEL, started=utcnow() + timedelta(minutes=1)))

    async with sessions() as session:
        row = await change_sessions.get(session, team_id=TEAM, session_id=session_id)
        entries = await session_timeline.entries(session, row=row)

    texts = [entry.text for entry in entries]
    assert texts[0] == "Session “db migration” started" and texts[-1] == "Session ended"
    assert "Joined as lead" in texts
    assert "Incident #1 (already firing) was firing when the session started" in texts
    assert "Incident #1 (already firing) resolved" in texts
    assert "Incident #3 (new alert) opened" in texts
    assert not any("other channel" in text or "after the end" in text for text in texts)
    assert any(text.startswith(f"Plan #{plan_id} (") and "plan created" in text for text in texts)
    assert [entry.at for entry in entries] == sorted(entry.at for entry in entries)


def _incident(
    number: int, title: str, channel_id: str, *, started: datetime, resolved: datetime | None = None
) -> Incident:
    return Incident(
        id=number,
        team_id=TEAM,
        group_key=f"group-{number}",
        open_key=None if resolved else f"group-{number}",
        service="checkout",
        alertname="HighErrorRate",
        severity="critical",
        title=title,
        labels={},
        annotations={},
        status="resolved" if resolved else "firing",
        started_at=started,
        resolved_at=resolved,
        resolved_by="alertmanager" if resolved else "",
        channel_id=channel_id,
        ts=f"1767225601.{number:06d}",
        created_at=started,
        updated_at=started,
    )
