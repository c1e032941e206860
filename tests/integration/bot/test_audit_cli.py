"""`carapulse audit verify`: every workspace's log walked, a page at a time, exit 1 at the first
break with one line naming the team, stream, position and event id."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
from sqlalchemy import and_, delete, update
from sqlalchemy.sql import Executable

from bot import audit, audit_cli
from bot.audit import AuditKind
from bot.db.engine import SessionFactory
from bot.db.models import AuditEvent
from tests.builders import BOB, TEAM
from tests.tampering import drop_append_only_guard

OTHER_TEAM = "T9999OTHER1"
PLAN = audit.plan_stream(7)


@pytest.fixture
async def log(sessions: SessionFactory) -> SessionFactory:
    """Two teams: TEAM with 4 events in plan 7's stream and 2 in its team stream, OTHER_TEAM with 1."""
    async with sessions.begin() as session:
        for n in range(4):
            await audit.record(
                session,
                team_id=TEAM,
                actor_id=BOB.user_id,
                kind=AuditKind.PLAN_DRY_RUN,
                plan_id=7,
                detail={"n": n},
            )
        for _ in range(2):
            await audit.record(session, team_id=TEAM, actor_id=BOB.user_id, kind=AuditKind.FREEZE_STARTED)
        await audit.record(session, team_id=OTHER_TEAM, actor_id="U1", kind=AuditKind.FREEZE_STARTED)
    return sessions


def _at(seq: int) -> object:
    return and_(AuditEvent.team_id == TEAM, AuditEvent.stream == PLAN, AuditEvent.seq == seq)


TAMPERING: dict[str, tuple[list[Executable], str]] = {
    "edited": (
        [update(AuditEvent).where(_at(2)).values(detail={"n": 99})],
        "stream plan:7, event 2 (id 2): its content does not match its hash",
    ),
    "deleted": (
        [delete(AuditEvent).where(_at(2))],
        "stream plan:7, event 3 (id 3): event 2 is missing (the next is 3)",
    ),
    "reordered": (
        [
            update(AuditEvent).where(_at(2)).values(seq=-2),
            update(AuditEvent).where(_at(3)).values(seq=2),
            update(AuditEvent).where(_at(-2)).values(seq=3),
        ],
        "stream plan:7, event 2 (id 3): it does not link to the event before it",
    ),
    "cut from the end": (
        [delete(AuditEvent).where(_at(4))],
        "stream plan:7, event 3: the stream ends at event 3, but its head is at 4",
    ),
}


async def test_an_intact_log_verifies_across_teams_page_by_page(
    log: SessionFactory, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await audit_cli.verify(database_url, page_size=2) == 0
    assert capsys.readouterr().out == "audit: verified 7 events in 3 streams\n"


@pytest.mark.parametrize("tampering", TAMPERING, ids=list(TAMPERING))
async def test_tampering_is_reported_on_one_line_with_exit_1(
    log: SessionFactory, database_url: str, capsys: pytest.CaptureFixture[str], tampering: str
) -> None:
    statements, where = TAMPERING[tampering]
    await drop_append_only_guard(log)
    async with log.begin() as session:
        for statement in statements:
            await session.execute(statement)

    assert await audit_cli.verify(database_url, page_size=3) == 1
    assert capsys.readouterr().err == f"audit: broken in team {TEAM}, {where}\n"
    # The other team's log is still whole.
    assert await audit_cli.verify(database_url, team=OTHER_TEAM) == 0


async def test_the_command_exits_1_naming_the_break(log: SessionFactory, database_url: str) -> None:
    await drop_append_only_guard(log)
    async with log.begin() as session:
        await session.execute(delete(AuditEvent).where(_at(2)))

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "audit",
        "verify",
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()

    assert process.returncode == 1, err
    assert err.decode().strip() == f"audit: broken in team {TEAM}, {TAMPERING['deleted'][1]}"
    assert out == b""
