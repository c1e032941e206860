"""`carapulse api …`: the token commands run beside the bot's database; the plan commands speak
the API over HTTP from anywhere (a pipeline step)."""

from __future__ import annotations

import argparse

from bot.api import plan_cli, token_cli


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    api = commands.add_parser("api", help="API tokens, and plans through the API (for pipelines)")
    nouns = api.add_subparsers(required=True, metavar="noun", parser_class=plan_cli.OneLineParser)
    token_cli.add_commands(nouns)
    plan_cli.add_commands(nouns)
