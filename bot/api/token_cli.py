"""`carapulse api token create|list|revoke`: static API tokens, run where the bot's database is.
`create` prints the token once, on its own line, so a script can capture it."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from bot.api import tokens
from bot.api.identities import API_ROLES
from bot.db.engine import SessionFactory, create_engine, create_session_factory
from bot.db.migrate import upgrade_to_head
from bot.errors import CarapulseError, ConfigError, UserError
from bot.settings import Settings, require_api_team

Command = Callable[[Settings, argparse.Namespace], Awaitable[int]]


def add_commands(api: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    token = api.add_parser("token", help="create, list or revoke static API tokens")
    verbs = token.add_subparsers(required=True, metavar="verb")
    create = verbs.add_parser("create", help="create a token and print it once")
    create.add_argument("name", help="its name: lower-case letters, digits, '.', '_' or '-' (26 at most)")
    create.add_argument(
        "--roles", nargs="+", required=True, metavar="ROLE", help=f"{' and/or '.join(API_ROLES)}"
    )
    create.set_defaults(run=_reporting(_create))
    listing = verbs.add_parser("list", help="every token of the workspace, revoked ones too")
    listing.set_defaults(run=_reporting(_list))
    revoke = verbs.add_parser("revoke", help="revoke a token by name; calls with it get 401 from then on")
    revoke.add_argument("name")
    revoke.set_defaults(run=_reporting(_revoke))


async def _create(settings: Settings, args: argparse.Namespace) -> int:
    roles = [role for given in args.roles for role in given.split(",") if role]
    async with _sessions(settings) as sessions, sessions.begin() as session:
        issued = await tokens.create(
            session, team_id=require_api_team(settings), name=args.name, roles=roles, created_by=_operator()
        )
    print(
        f"API token {issued.row.name} ({', '.join(issued.row.roles)}); it is shown only now:", file=sys.stderr
    )
    print(issued.token)
    return 0


async def _list(settings: Settings, args: argparse.Namespace) -> int:
    team_id = require_api_team(settings)
    async with _sessions(settings) as sessions, sessions() as session:
        after = ""
        while rows := await tokens.page(session, team_id=team_id, after=after):
            for row in rows:
                state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
                created = f"created {row.created_at:%Y-%m-%d %H:%M}"
                print(f"{row.name:<26} {','.join(row.roles):<16} {created} {state}")
            after = rows[-1].name
    return 0


async def _revoke(settings: Settings, args: argparse.Namespace) -> int:
    async with _sessions(settings) as sessions, sessions.begin() as session:
        await tokens.revoke(
            session, team_id=require_api_team(settings), name=args.name, revoked_by=_operator()
        )
    print(f"API token {args.name} is revoked.")
    return 0


@asynccontextmanager
async def _sessions(settings: Settings) -> AsyncIterator[SessionFactory]:
    engine = create_engine(settings.database_url)
    try:
        await upgrade_to_head(engine)
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


def _reporting(command: Command) -> Command:
    """One line on stderr for a refusal: exit 2 for a mistake in the command, 1 for the state."""

    async def run(settings: Settings, args: argparse.Namespace) -> int:
        try:
            return await command(settings, args)
        except (UserError, ConfigError) as exc:
            print(f"carapulse: {exc.message}", file=sys.stderr)
            return 2
        except CarapulseError as exc:
            print(f"carapulse: {exc.message}", file=sys.stderr)
            return 1

    return run


def _operator() -> str:
    """Who ran the command, for the audit log: the local account, apart from any Slack user id."""
    return f"cli:{getpass.getuser()}"
