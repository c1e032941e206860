"""The whole story of the core loop, against `carapulse serve` started as a real process."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from blocks import ids
from bot.db.engine import create_engine, create_session_factory
from bot.db.models import AuditEvent
from tests.fakes.kubernetes import FakeKubernetes
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_driver import SlackDriver
from tests.fakes.slack_state import ALICE, BOB
from tests.harness import SIGNING_SECRET, bot_environment

STARTUP_SECONDS = 60


@pytest.fixture
async def fakes(tmp_path: Path) -> AsyncIterator[tuple[FakeSlack, FakeKubernetes, Path]]:
    async with FakeSlack() as slack, FakeKubernetes(convergence_delay=0.3) as kube:
        kube.add_deployment("shop", "checkout", replicas=2)
        yield slack, kube, kube.write_kubeconfig(tmp_path / "kubeconfig")
        assert slack.violations == []


@pytest.fixture
async def serve(database_url: str, fakes: tuple[FakeSlack, FakeKubernetes, Path]) -> AsyncIterator[str]:
    slack, _, kubeconfig = fakes
    port = _free_port()
    environment = {
        **os.environ,
        **bot_environment(database_url=database_url, slack=slack, kubeconfig=kubeconfig),
        "PORT": str(port),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", env=environment, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    drain: asyncio.Task[bytes] | None = None
    try:
        async with asyncio.timeout(STARTUP_SECONDS):
            while b"listening on port" not in (line := await process.stderr.readline()):
                assert line, "carapulse serve exited before listening"
        drain = asyncio.create_task(process.stderr.read())
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        assert await process.wait() == 0
        if drain is not None:
            await drain


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
    assert "You requested this plan" in refusal[0].body["text"]

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
