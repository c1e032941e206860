import pytest
from sqlalchemy import select

from bot import memory, plan_views, plans
from bot.db.engine import SessionFactory
from bot.db.models import AuditEvent
from bot.domain import Actor
from bot.errors import NotFound, PolicyDenied, UserError
from tests.builders import ALICE, BOB, CAROL, POLICY, TEAM, policy, restart_draft

OTHER = Actor(team_id="T0999OTHER9", user_id="U0999OTHER9")


async def _add(sessions: SessionFactory, actor: Actor, service: str, text: str) -> int:
    async with sessions.begin() as session:
        return (await memory.add(session, actor=actor, service=service, text=text)).id


async def test_notes_are_listed_newest_first_a_page_at_a_time(sessions: SessionFactory) -> None:
    for n in range(12):
        await _add(sessions, ALICE, "checkout", f"note {n}")
    await _add(sessions, ALICE, "payments", "another service")

    async with sessions() as session:
        first = await memory.listing(session, team_id=TEAM, service="checkout")
        second = await memory.listing(session, team_id=TEAM, service="Checkout", page=1)
        everything = await memory.listing(session, team_id=TEAM, size=5)

    assert [n.text for n in first.items] == [f"note {n}" for n in range(11, 1, -1)]
    assert first.has_more and not first.has_previous
    assert [n.text for n in second.items] == ["note 1", "note 0"] and not second.has_more
    assert everything.items[0].service == "payments" and everything.has_more


async def test_a_workspace_sees_only_its_own_notes(sessions: SessionFactory) -> None:
    theirs = await _add(sessions, OTHER, "checkout", "other workspace secret")
    await _add(sessions, ALICE, "checkout", "ours")

    async with sessions() as session:
        listed = await memory.listing(session, team_id=TEAM)
        found = await memory.search(session, team_id=TEAM, text="secret")
        on_card = await memory.for_service(session, team_id=TEAM, service="checkout")
    async with sessions.begin() as session:
        with pytest.raises(NotFound):
            await memory.delete(session, actor=ALICE, policy=POLICY, note_id=theirs)

    assert [n.text for n in listed.items] == ["ours"]
    assert found.items == []
    assert [n.text for n in on_card] == ["ours"]


async def test_search_matches_text_or_service_in_any_case_and_wildcards_are_literal(
    sessions: SessionFactory,
) -> None:
    await _add(sessions, ALICE, "checkout", "Never scale below 3 in PROD")
    await _add(sessions, ALICE, "payments", "100% of callbacks retry")
    await _add(sessions, ALICE, "search-api", "nothing to see")

    async with sessions() as session:
        by_text = await memory.search(session, team_id=TEAM, text="scale BELOW")
        literal = await memory.search(session, team_id=TEAM, text="0%")
        by_service = await memory.search(session, team_id=TEAM, text="search")
        with pytest.raises(UserError, match="at least 2"):
            await memory.search(session, team_id=TEAM, text=" x ")

    assert [n.service for n in by_text.items] == ["checkout"]
    assert [n.service for n in literal.items] == ["payments"]
    assert [n.service for n in by_service.items] == ["search-api"]


async def test_the_author_or_an_admin_may_delete_a_note_and_it_is_audited(sessions: SessionFactory) -> None:
    admins = policy(roles={CAROL.user_id: ["admin"]})
    first = await _add(sessions, ALICE, "checkout", "first")
    second = await _add(sessions, ALICE, "checkout", "second")

    async with sessions.begin() as session:
        with pytest.raises(PolicyDenied, match="Only <@U0123ALICE1>"):
            await memory.delete(session, actor=BOB, policy=admins, note_id=first)
    async with sessions.begin() as session:
        await memory.delete(session, actor=ALICE, policy=admins, note_id=first)
        await memory.delete(session, actor=CAROL, policy=admins, note_id=second)
    async with sessions() as session:
        left = await memory.listing(session, team_id=TEAM)
        kinds = (await session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id))).all()

    assert left.items == []
    assert kinds == ["memory.added", "memory.added", "memory.deleted", "memory.deleted"]


@pytest.mark.parametrize(
    ("service", "text", "problem"),
    [
        ("Check out", "fine", "is not a service name"),
        ("-checkout", "fine", "is not a service name"),
        ("x" * 65, "fine", "is not a service name"),
        ("checkout", "   ", "Write the note itself"),
        ("checkout", "y" * 501, "under 500 characters"),
    ],
)
async def test_bad_notes_are_refused_and_nothing_is_stored(
    sessions: SessionFactory, service: str, text: str, problem: str
) -> None:
    with pytest.raises(UserError, match=problem):
        await _add(sessions, ALICE, service, text)
    async with sessions() as session:
        assert (await memory.listing(session, team_id=TEAM)).items == []


async def test_plan_view_carries_the_newest_notes_on_its_service(sessions: SessionFactory) -> None:
    for n in range(5):
        await _add(sessions, ALICE, "checkout", f"note {n}")
    await _add(sessions, ALICE, "payments", "not this one")
    async with sessions.begin() as session:
        created = await plans.submit(
            session, requester=ALICE, channel_id="C1", source_key="k", draft=restart_draft(), policy=POLICY
        )

    async with sessions() as session:
        view = await plan_views.load(session, team_id=TEAM, plan_id=created.plan.id)

    assert [n.text for n in view.notes] == ["note 4", "note 3", "note 2"]
