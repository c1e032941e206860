"""Operator memory as a source of the context graph: a service only its operators wrote notes about
still gets a node (with its note count), and only in the workspace that wrote them."""

from __future__ import annotations

from bot import memory
from bot.context import store
from bot.context.collector import ContextCollector
from bot.context.memory import OperatorNotes
from bot.context.sources import SourceSettings
from bot.db.engine import SessionFactory
from bot.domain import Actor
from tools.common.registry import Registry

TEAM, OTHER = "T0123ABCDEF", "T9999OTHER1"


async def test_services_with_notes_become_nodes_of_their_workspace_only(sessions: SessionFactory) -> None:
    async with sessions.begin() as session:
        author = Actor(team_id=TEAM, user_id="U0123ALICE1")
        await memory.add(session, actor=author, service="ledger", text="nightly batch at 02:00 UTC")
        await memory.add(session, actor=author, service="ledger", text="owned by the finance team")
    collector = ContextCollector(
        sessions=sessions,
        registry=Registry(),
        settings=SourceSettings(environment="prod"),
        interval=60,
        memory=OperatorNotes(sessions),
    )

    await collector.refresh(team_ids=[TEAM, OTHER])

    async with sessions() as session:
        mine = await store.latest(session, team_id=TEAM)
        theirs = await store.latest(session, team_id=OTHER)
        assert mine is not None and theirs is not None
        ledger = await store.find_service(session, mine, "ledger")
        assert await store.find_service(session, theirs, "ledger") is None
    assert ledger is not None and ledger.attributes["notes"] == 2
