"""`carapulse audit verify`: walk every stream of every workspace's audit log and say, on one line,
that it holds together, or where it first does not (exit 1)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import AsyncIterator

from bot import audit
from bot.db.engine import SessionFactory, create_engine, create_session_factory
from bot.settings import Settings

DEFAULT_DATABASE_URL = Settings.model_fields["database_url"].default


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    audit_log = commands.add_parser("audit", help="check the audit log")
    verbs = audit_log.add_subparsers(required=True, metavar="verb")
    verify = verbs.add_parser("verify", help="walk the hash chains; exit 1 at the first break")
    verify.add_argument("--team", help="only this workspace (Slack team id)")
    verify.add_argument("--page-size", type=int, default=1000, help="events read per query")
    verify.set_defaults(run_plain=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    """Needs only DATABASE_URL (no Slack settings), so it runs wherever the database is reachable."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        print(
            "carapulse: DATABASE_URL is invalid: must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
        return 2
    if args.page_size < 1:
        print("carapulse: --page-size must be at least 1", file=sys.stderr)
        return 2
    return asyncio.run(verify(url, team=args.team, page_size=args.page_size))


async def verify(database_url: str, *, team: str | None = None, page_size: int = 1000) -> int:
    """0 when every chain verifies, 1 at the first break (printed on one line)."""
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    events = streams = 0
    try:
        async for team_id in _teams(sessions, team):
            async with sessions() as session:
                checked = await audit.verify_team(session, team_id=team_id, page_size=page_size)
            events, streams = events + checked.events, streams + checked.streams
            if checked.broken is not None:
                print(f"audit: broken in team {team_id}, {checked.broken.line()}", file=sys.stderr)
                return 1
    finally:
        await engine.dispose()
    print(f"audit: verified {events} events in {streams} streams")
    return 0


async def _teams(sessions: SessionFactory, only: str | None) -> AsyncIterator[str]:
    """The workspaces to verify, a page of ids at a time."""
    if only is not None:
        yield only
        return
    after = ""
    while True:
        async with sessions() as session:
            page = await audit.teams(session, after=after)
        for team_id in page:
            yield team_id
        if not page:
            return
        after = page[-1]
