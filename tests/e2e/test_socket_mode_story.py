"""The story of tests/e2e/test_scale_story.py over Socket Mode: a real `carapulse serve --socket`
connects to the fake Slack's Socket Mode end, gets the slash command, the button clicks and an event
as envelopes and acks each; Slack refreshes the connection half-way and the story goes on over the
new one."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sqlalchemy import select

from blocks import ids
from bot.db.engine import create_engine, create_session_factory
from bot.db.models import AuditEvent
from bot.playground.kubernetes.server import FakeKubernetes
from bot.playground.slack.socket_driver import SocketDriver
from bot.playground.slack.specs import load_spec
from bot.playground.slack.state import ALICE, BOB
from bot.playground.slack.web_api import DEFAULT_APP_TOKEN, FakeSlack
from tests.harness import bot_environment
from tests.processes import child_process, free_port

CARAPULSE = [sys.executable, "-m", "bot"]


async def test_scale_request_over_socket_mode_is_approved_runs_and_is_audited(
    database_url: str, fakes: tuple[FakeSlack, FakeKubernetes, Path]
) -> None:
    slack, kube, kubeconfig = fakes
    environment = {
        **os.environ,
        **bot_environment(database_url=database_url, slack=slack, kubeconfig=kubeconfig),
        "PORT": str(free_port()),
        "SLACK_APP_TOKEN": DEFAULT_APP_TOKEN,
    }
    driver = SocketDriver(slack)

    async with child_process([*CARAPULSE, "serve", "--socket"], environment=environment, ready=b"listening"):
        await slack.socket_mode.wait_connected()
        await driver.slash_command("scale checkout to 5 in shop", user=ALICE)
        card = await slack.wait_for(lambda c: c.method == "chat.postMessage" and c.ok)
        channel, card_ts = card.response["channel"], card.response["ts"]
        assert "Awaiting approval" in str(card.args["blocks"])

        # Slack asks the app to reconnect; it opens a new connection and lets the old one go.
        await slack.socket_mode.refresh()
        assert len(slack.calls_to("apps.connections.open")) == 2

        await driver.block_action(ids.PLAN_APPROVE, "1", user=ALICE, message_ts=card_ts)
        refusal = await slack.wait_until(lambda: slack.responses)
        assert "you requested this plan" in refusal[0].body["text"]

        await driver.block_action(ids.PLAN_APPROVE, "1", user=BOB, message_ts=card_ts)
        await slack.wait_until(
            lambda: "Succeeded" in str(slack.messages[channel][card_ts]["blocks"]), timeout=30
        )
        summary = await slack.wait_for(lambda c: c.args.get("thread_ts") == card_ts and c.ok)
        assert "checkout replicas 2 → 5" in str(summary.args["blocks"])

        home = load_spec("payloads/app_home_opened.json")["event"]
        home.pop("view")
        await driver.event({**home, "user": ALICE})
        await slack.wait_for(lambda c: c.method == "views.publish" and c.ok)

    assert [ack.kind for ack in slack.socket_mode.acks] == [
        "slash_commands",
        "interactive",
        "interactive",
        "events_api",
    ]
    assert kube.deployment("shop", "checkout")["spec"]["replicas"] == 5
    scale_patches = [r for r in kube.requests if r.method == "PATCH" and r.path.endswith("/checkout/scale")]
    assert len(scale_patches) == 1

    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            kinds = list(await session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)))
    finally:
        await engine.dispose()
    for kind in ("plan.created", "plan.approved", "execution.started", "step.finished"):
        assert kind in kinds
    assert kinds[-1] == "execution.finished"
