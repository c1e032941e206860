"""`carapulse tools list` and `carapulse tools schema [tool]`: what each tool can do, whether it is
configured here, and the JSON Schema of every action's arguments (what a plan step must carry)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from bot import action_schemas, toolbox
from tools.common.base import ToolError
from tools.common.catalog import installed_tools
from tools.common.registry import installed_toolsets


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    tools = commands.add_parser("tools", help="list the tools and their actions, or print argument schemas")
    verbs = tools.add_subparsers(required=True, metavar="verb")
    listing = verbs.add_parser("list", help="every tool and action, its class, and whether it is configured")
    listing.set_defaults(run_plain=run_list)
    schema = verbs.add_parser("schema", help="JSON Schema of each action's arguments")
    schema.add_argument("tool", nargs="?", help="only this tool")
    schema.set_defaults(run_plain=run_schema)


def run_list(args: argparse.Namespace) -> int:
    """Builds each toolset from the environment to learn whether it is configured, then closes it."""
    status = _status()
    for entry in installed_tools():
        print(f"{entry.name}: {status.get(entry.name, 'unknown')}")
        for action in entry.actions:
            traits = [action.effect.value]
            if action.risk is not None:
                traits.append(f"{action.risk.value} risk")
            if action.idempotent:
                traits.append("idempotent")
            print(f"  {action.name:<40} {', '.join(traits):<28} {action.description}")
    return 0


def run_schema(args: argparse.Namespace) -> int:
    entries = installed_tools()
    if args.tool is not None:
        entries = [entry for entry in entries if entry.name == args.tool]
        if not entries:
            known = ", ".join(entry.name for entry in installed_tools())
            print(f"carapulse: no tool named {args.tool!r} (installed: {known})", file=sys.stderr)
            return 2
    schemas = {action.name: action_schemas.describe(action) for entry in entries for action in entry.actions}
    print(json.dumps(schemas, indent=2, sort_keys=True))
    return 0


def _status() -> dict[str, str]:
    status: dict[str, str] = {}
    for name, factory in installed_toolsets().items():
        try:
            built, status[name] = toolbox.configure(factory, os.environ)
        except ToolError as exc:
            # The message names the tool for the start-up line; the listing names it already.
            status[name] = f"misconfigured: {exc.message.removeprefix(f'{name}: ')}"
            continue
        if built is not None:
            asyncio.run(built.aclose())
    return status
