"""The `carapulse` command: serve (HTTP or Socket Mode), worker, migrate, policy, tools."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence

from aiohttp import web

from bot import audit_cli, doctor, logs, policy_cli, tools_cli
from bot.api import cli as api_cli
from bot.app import Carapulse, create_app
from bot.db.engine import create_engine
from bot.db.migrate import upgrade_to_head
from bot.errors import ConfigError
from bot.http import service_web_app
from bot.playground import cli as playground_cli
from bot.settings import Settings, load_settings, require_for_http, require_for_socket

log = logging.getLogger("carapulse")

# The exit status after a second stop signal, as a shell reports a process ended by SIGTERM.
EXIT_AT_ONCE = 128 + signal.SIGTERM

PLAYGROUND_HINT = "no Slack app yet? `carapulse playground` runs Carapulse in a browser, simulated here"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if hasattr(args, "run_plain"):
        return int(args.run_plain(args))
    try:
        settings = load_settings()
        logs.configure(
            level=settings.log_level,
            form=settings.log_format,
            secrets=[*logs.secrets_of(settings.model_dump()), *logs.secrets_of(os.environ)],
        )
        return asyncio.run(args.run(settings, args))
    except ConfigError as exc:
        hint = f" ({PLAYGROUND_HINT})" if exc.message == "SLACK_BOT_TOKEN is missing" else ""
        print(f"carapulse: {exc.message}{hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="carapulse", description="Slack-native ChatOps for SRE teams")
    commands = parser.add_subparsers(required=True, metavar="command")
    serve = commands.add_parser("serve", help="answer Slack (HTTP on $PORT, or --socket) and run the worker")
    serve.add_argument("--socket", action="store_true", help="use Socket Mode (needs SLACK_APP_TOKEN)")
    serve.add_argument("--no-worker", action="store_true", help="do not run a worker in this process")
    serve.set_defaults(run=_serve)
    worker = commands.add_parser("worker", help="run an extra worker that executes approved plans")
    worker.set_defaults(run=_worker)
    migrate = commands.add_parser("migrate", help="upgrade the database schema to the latest version")
    migrate.set_defaults(run=_migrate)
    policy_cli.add_commands(commands)
    doctor.add_commands(commands)
    audit_cli.add_commands(commands)
    tools_cli.add_commands(commands)
    api_cli.add_commands(commands)
    playground_cli.add_commands(commands)
    return parser


async def _serve(settings: Settings, args: argparse.Namespace) -> int:
    if args.socket:
        require_for_socket(settings)
    else:
        require_for_http(settings)
    carapulse = await create_app(settings, with_worker=not args.no_worker)
    runner = web.AppRunner(service_web_app(carapulse), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host="0.0.0.0", port=settings.port).start()
        log.info("listening on port %s (%s)", settings.port, "Socket Mode" if args.socket else "HTTP")
        carapulse.start_worker()
        if args.socket:
            await _run_socket_mode(carapulse)
        else:
            await until_stopped()
    finally:
        # The probes keep answering (and Slack requests get 503) until the work in hand is done.
        await carapulse.aclose()
        await runner.cleanup()
    return 0


async def _run_socket_mode(carapulse: Carapulse) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(carapulse.bolt, carapulse.settings.slack_app_token)
    await handler.connect_async()
    try:
        await until_stopped()
    finally:
        # Closed first, so Slack sends what comes next over the other replicas' connections.
        carapulse.stop_taking_work()
        await handler.close_async()


async def _worker(settings: Settings, args: argparse.Namespace) -> int:
    carapulse = await create_app(settings, with_worker=True)
    try:
        carapulse.start_worker()
        log.info("worker started")
        await until_stopped()
    finally:
        await carapulse.aclose()
    return 0


async def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    engine = create_engine(settings.database_url)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()
    log.info("database is at the latest schema")
    return 0


async def until_stopped() -> None:
    """Return at the first SIGTERM or SIGINT, so the caller shuts down gracefully; a second one
    ends the process at once, with what is still running left to the leases."""
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if stopped.is_set():
            log.warning("%s again: exiting now", signal.Signals(signum).name)
            logging.shutdown()
            os._exit(EXIT_AT_ONCE)
        stopped.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    await stopped.wait()
    log.info("stopping; a second signal exits at once")
