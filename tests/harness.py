"""Runs Carapulse in-process on a real HTTP port against the fake Slack and fake Kubernetes, so
scenario tests drive it exactly as Slack would."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import ColumnElement, func, select

from bot.app import Carapulse, create_app
from bot.clock import Clock
from bot.db.models import SlackMessage
from bot.http import service_web_app
from bot.planning_context import PlanningContextProvider
from bot.playground.kubernetes.server import FakeKubernetes
from bot.playground.slack.driver import SlackDriver
from bot.playground.slack.web_api import DEFAULT_TOKEN, FakeSlack
from bot.settings import Settings, load_settings

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def bot_environment(*, database_url: str, slack: FakeSlack, kubeconfig: Path) -> dict[str, str]:
    """The environment variables an operator would set, pointed at the fakes."""
    return {
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url,
        "KUBECONFIG": str(kubeconfig),
        "CARAPULSE_ENVIRONMENT": "prod",
        "ENVIRONMENTS": json.dumps({"prod": {"production": True}}),
        "ROLES": json.dumps(
            {
                "U0123ALICE1": ["operator", "approver"],
                "U0123BOBBY2": ["approver"],
                "U0123CAROL3": ["approver", "admin"],
            }
        ),
        "CARD_UPDATE_INTERVAL_SECONDS": "0.05",
        "HOME_UPDATE_INTERVAL_SECONDS": "0.05",
        "WORKER_POLL_SECONDS": "0.2",
        # A test that ends with a step still running waits no longer than this for it.
        "SHUTDOWN_GRACE_SECONDS": "5",
    }


@dataclass
class RunningBot:
    carapulse: Carapulse
    driver: SlackDriver
    slack: FakeSlack
    kube: FakeKubernetes
    url: str

    async def count(self, model: type) -> int:
        """Rows of an ORM model in the bot's database."""
        return await self.count_where(model)

    async def count_where(self, model: type, *conditions: ColumnElement[bool]) -> int:
        """Rows of an ORM model in the bot's database that meet `conditions`."""
        async with self.carapulse.runtime.sessions() as session:
            query = select(func.count()).select_from(model).where(*conditions)
            return int(await session.scalar(query) or 0)

    def card(self, plan_id: int | None = None) -> dict[str, Any] | None:
        """The card message of a plan (of any plan when None) as Slack stores it now."""
        prefix = "Plan #" if plan_id is None else f"Plan #{plan_id}:"
        for messages in self.slack.messages.values():
            for message in messages.values():
                is_reply = message.get("thread_ts", message["ts"]) != message["ts"]
                if message.get("text", "").startswith(prefix) and not is_reply:
                    return message
        return None

    async def card_text(self, plan_id: int | None, expected: str, timeout: float = 15) -> str:  # noqa: ASYNC109
        """Wait until the card of `plan_id` contains `expected`, and the bot has stored where that card
        is (work that answers under a card, an escalation's ping, looks it up: Slack shows the card a
        moment before the bot has written down its ts); return its rendered blocks."""

        def rendered() -> str | None:
            card = self.card(plan_id)
            text = str(card.get("blocks")) if card else ""
            return text if expected in text else None

        text = await self.slack.wait_until(rendered, timeout=timeout)
        if plan_id is not None:
            async with asyncio.timeout(timeout):  # the database tells nobody of a write: poll it
                while not await self.count_where(SlackMessage, SlackMessage.plan_id == plan_id):  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
        return text


@asynccontextmanager
async def running_bot(
    *,
    database_url: str,
    tmp_path: Path,
    convergence_delay: float = 0.1,
    overrides: dict[str, str] | None = None,
    prepare_slack: Callable[[FakeSlack], None] | None = None,
    clock: Clock | None = None,
    slack: FakeSlack | None = None,
    port: int = 0,
    context_providers: Sequence[PlanningContextProvider] = (),
) -> AsyncIterator[RunningBot]:
    """`prepare_slack` adds users, channels or user groups before the bot starts and reads them;
    `clock` is what the bot's scheduled jobs wait on (a FakeClock moves only when told);
    `context_providers` are handed to the bot's planner.
    A started `slack` is shared (restarts and replicas talk to one workspace); else one is made.
    `port` 0 picks a free port; a fixed one is for servers told the URL before the bot starts."""
    async with contextlib.AsyncExitStack() as stack:
        if slack is None:
            slack = await stack.enter_async_context(FakeSlack())
        kube = await stack.enter_async_context(FakeKubernetes(convergence_delay=convergence_delay))
        if prepare_slack is not None:
            prepare_slack(slack)
        kube.add_deployment("shop", "checkout", replicas=2)
        kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig")
        environment = bot_environment(database_url=database_url, slack=slack, kubeconfig=kubeconfig)
        environment = {**environment, **(overrides or {})}
        carapulse = await create_app(
            _settings(environment), environ=environment, clock=clock, context_providers=context_providers
        )
        runner = web.AppRunner(service_web_app(carapulse), access_log=None)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", port))
        await web.SockSite(runner, sock).start()
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        carapulse.start_worker()
        try:
            yield RunningBot(
                carapulse=carapulse,
                driver=SlackDriver(url, SIGNING_SECRET, slack),
                slack=slack,
                kube=kube,
                url=url,
            )
        finally:
            await runner.cleanup()
            await carapulse.aclose()
        assert slack.violations == [], slack.violations


def _settings(environment: dict[str, str]) -> Settings:
    """Settings as the process environment would give them (JSON values decoded, as the
    environment source does)."""
    return load_settings(
        **{
            name.lower().removeprefix("carapulse_"): json.loads(value) if value[:1] in ("{", "[") else value
            for name, value in environment.items()
        }
    )
