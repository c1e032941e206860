"""`carapulse playground`: Carapulse in a browser, with stand-ins for Slack, Kubernetes and Prometheus.

Nothing here is imported until the command runs, so `carapulse serve` starts as before.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_PORT = 3000

log = logging.getLogger("carapulse")


def add_commands(commands: Any) -> None:
    playground = commands.add_parser(
        "playground",
        help="try Carapulse in a browser: a simulated Slack channel, cluster and Prometheus on 127.0.0.1",
    )
    playground.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"the page's port on 127.0.0.1 ({DEFAULT_PORT})",
    )
    playground.set_defaults(run_plain=run)


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        print(f"carapulse: --port must be between 0 and 65535, not {args.port}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_play(args.port))
    except OSError as exc:
        print(f"carapulse: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def _play(port: int) -> int:
    from bot.cli import until_stopped
    from bot.playground import stage

    with tempfile.TemporaryDirectory(prefix="carapulse-playground-") as directory:
        async with stage.running(directory=Path(directory), port=port) as playground:
            log.info(
                "playground: open %s (a local simulation: Slack, Kubernetes and Prometheus are stand-ins "
                "in this process; nothing leaves this machine; Ctrl-C stops it and forgets everything)",
                playground.url,
            )
            await until_stopped()
    return 0
