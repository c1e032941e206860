"""The whole story of the core loop, against `carapulse serve` started as a real process."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from sqlalchemy import select

from blocks import ids
from bot.db.engine import create_engine, create_session_factory
from bot.db.models import AuditEvent
from bot.playground.kubernetes.server import FakeKubernetes
from bot.playground.slack.driver import SlackDriver
from bot.playground.slack.state import ALICE, BOB
from bot.playground.slack.web_api import FakeSlack
from tests.harness import SIGNING_SECRET, bot_environment
from tests.processes import child_process, free_port


@pytest.fixture(params=["serve", "serve --no-worker + worker"])
async def serve(
    request: pytest.FixtureRequest, database_url: str, fakes: tuple[FakeSlack, FakeKubernetes, Path]
) -> AsyncIterator[str]:
    """`carapulse serve` with its own worker, or without one next to a `carapulse worker` process."""
    slack, _, kubeconfig = fakes
    port = free_port()
    environment = {
        **os.environ,
        **bot_environment(database_url=database_url, slack=slack, kubeconfig=kubeconfig),
        "PORT": str(port),
    }
    carapulse = [sys.executable, "-m", "bot"]
    async with AsyncExitStack() as stack:
        if request.param == "serve":
            serve_argv = [*carapulse, "serve"]
        else:
            serve_argv = [*carapulse, "serve", "--no-worker"]
            await stack.enter_async_context(
                child_process([*carapulse, "worker"], environment=environment, ready=b"worker started")
            )
        await stack.enter_async_context(
            child_process(serve_argv, environment=environment, ready=b"listening on port")
        )
        yield f"http://127.0.0.1:{port}"


async def test_scale_request_is_approved_by_someone_else_runs_and_is_audited(
    serve: str, fakes: tuple[FakeSlack, FakeKubernetes, Path], database_url: str
) -> None:
    slack, kube, _ = fakes
    driver = SlackDriver(serve, SIGNING_SECRET, slack)

    answer = await driver.slash_command("scale checkout to 5 in shop", user=ALICE)
    assert answer.status == 200
    card = await slack.wait_for(lambda c: c.method == "chat.postMessage" and c.ok)
    card_ts = card.response["ts"]
    assert "Awaiting approval" in str(card.args["blocks"])

    await driver.block_action(ids.PLAN_APPROVE, "1", user=ALICE, message_ts=card_ts)
    refusal = await slack.wait_until(lambda: slack.responses)
    assert "you requested this plan" in refusal[0].body["text"]

    await driver.block_action(ids.PLAN_APPROVE, "1", user=BOB, message_ts=card_ts)
    await slack.wait_until(
        lambda: "Succeeded" in str(slack.messages[card.response["channel"]][card_ts]["blocks"]),
        timeout=30,
    )
    assert kube.deployment("shop", "checkout")["spec"]["replicas"] == 5
    edits = [str(c.args.get("blocks")) for c in slack.calls_to("chat.update") if c.ok]
    assert any("Running" in edit for edit in edits)
    summary = await slack.wait_for(lambda c: c.args.get("thread_ts") == card_ts and c.ok)
    assert "checkout replicas 2 → 5" in str(summary.args["blocks"])

    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            kinds = list(await session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)))
    finally:
        await engine.dispose()
    for kind in ("plan.created", "plan.approved", "execution.started", "step.finished"):
        assert kind in kinds
    assert kinds[-1] == "execution.finished"
