"""One replica collects the context graph at a time: the one holding the database lease, renewed each
round; another takes over once it has expired."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from bot import audit
from bot.audit import AuditKind
from bot.clock import utcnow
from bot.context import store
from bot.context.collector import LEASE, ContextCollector
from bot.context.sources import SourceSettings
from bot.db.engine import SessionFactory
from bot.db.models import ContextSnapshot, Lease
from tools.common.registry import Registry

TEAMS = ("T0123ABCDEF", "T9999OTHER1")


def collector(sessions: SessionFactory, owner: str) -> ContextCollector:
    return ContextCollector(
        sessions=sessions,
        registry=Registry(),
        settings=SourceSettings(environment="prod"),
        interval=60,
        owner=owner,
    )


async def test_the_lease_holder_collects_for_every_workspace_and_the_other_waits(
    sessions: SessionFactory,
) -> None:
    async with sessions.begin() as session:
        for team in TEAMS:
            await audit.record(session, team_id=team, actor_id="U1", kind=AuditKind.FREEZE_STARTED)
    first, second = collector(sessions, "replica-a"), collector(sessions, "replica-b")

    assert await first.run_once() is True
    assert await second.run_once() is False
    assert await first.run_once() is True

    async with sessions.begin() as session:
        teams = sorted((await session.scalars(select(ContextSnapshot.team_id))).all())
        assert teams == sorted(TEAMS), "unchanged graphs add no snapshot"
        expired = utcnow() - timedelta(seconds=1)
        await session.execute(update(Lease).where(Lease.name == LEASE).values(expires_at=expired))

    assert await second.run_once() is True
    assert await first.run_once() is False


async def test_old_snapshots_are_pruned_but_the_latest_stays(sessions: SessionFactory) -> None:
    team = TEAMS[0]
    async with sessions.begin() as session:
        for n in range(3):
            session.add(
                ContextSnapshot(
                    team_id=team,
                    taken_at=utcnow() - timedelta(days=40 - n),
                    checked_at=utcnow(),
                    digest=str(n),
                    notes=[],
                    node_count=0,
                    edge_count=0,
                )
            )
    async with sessions.begin() as session:
        assert await store.prune(session, team_id=team, keep=timedelta(days=30)) == 2
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ContextSnapshot)) == 1
        latest = await store.latest(session, team_id=team)
    assert latest is not None and latest.digest == "2"


async def test_with_no_workspace_yet_the_tools_are_not_asked(sessions: SessionFactory) -> None:
    class Refusing(Registry):
        def __contains__(self, name: object) -> bool:
            raise AssertionError(f"asked for {name}")

    idle = ContextCollector(
        sessions=sessions, registry=Refusing(), settings=SourceSettings(environment="prod")
    )

    assert await idle.run_once() is True
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ContextSnapshot)) == 0
