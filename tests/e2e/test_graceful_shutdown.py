"""SIGTERM to a real `carapulse serve` in the middle of a slow step: the step finishes and is recorded,
the card shows it, the execution is handed back (another worker goes on at once, not after the
lease), nothing runs twice; and a second SIGTERM ends the process at once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from contextlib import AsyncExitStack
from pathlib import Path

from sqlalchemy import select

from blocks import ids
from bot.clock import utcnow
from bot.db.engine import create_engine, create_session_factory
from bot.db.models import Execution, StepRun
from bot.playground.kubernetes.server import FakeKubernetes
from bot.playground.slack.driver import SlackDriver
from bot.playground.slack.state import ALICE, BOB
from bot.playground.slack.web_api import FakeSlack
from tests.harness import SIGNING_SECRET, bot_environment
from tests.processes import child_process, free_port

CARAPULSE = [sys.executable, "-m", "bot"]
SCALE_PATH = "/checkout/scale"
# Far longer than the test runs: the next worker can only go on because the lease was handed back.
LEASE_SECONDS = "600"


def _environment(database_url: str, fakes: tuple[FakeSlack, FakeKubernetes, Path], **extra: str) -> dict:
    slack, _, kubeconfig = fakes
    return {
        **os.environ,
        **bot_environment(database_url=database_url, slack=slack, kubeconfig=kubeconfig),
        "PORT": str(free_port()),
        "WORKER_LEASE_SECONDS": LEASE_SECONDS,
        **extra,
    }


async def _approved_scale(driver: SlackDriver, slack: FakeSlack) -> tuple[str, str]:
    """Ask for the scale, approve it, and return the card's channel and ts once its step runs."""
    await driver.slash_command("scale checkout to 5 in shop", user=ALICE)
    card = await slack.wait_for(lambda c: c.method == "chat.postMessage" and c.ok)
    channel, ts = card.response["channel"], card.response["ts"]
    await driver.block_action(ids.PLAN_APPROVE, "1", user=BOB, message_ts=ts)
    await slack.wait_until(lambda: "running" in str(slack.messages[channel][ts]["blocks"]))
    return channel, ts


async def test_sigterm_lets_the_running_step_finish_and_hands_the_execution_over(
    database_url: str, fakes: tuple[FakeSlack, FakeKubernetes, Path]
) -> None:
    slack, kube, _ = fakes
    environment = _environment(database_url, fakes, SHUTDOWN_GRACE_SECONDS="20")
    url = f"http://127.0.0.1:{environment['PORT']}"
    driver = SlackDriver(url, SIGNING_SECRET, slack)
    kube.stall_next("PATCH", SCALE_PATH, seconds=3)

    async with child_process(
        [*CARAPULSE, "serve"], environment=environment, ready=b"listening on port"
    ) as serve:
        channel, ts = await _approved_scale(driver, slack)
        serve.send_signal(signal.SIGTERM)
        # Draining: new Slack requests are turned away so that Slack retries them elsewhere.
        refused = await driver.slash_command("scale checkout to 7 in shop", user=ALICE)
        assert refused.status == 503
        assert refused.headers["Retry-After"]
        assert await asyncio.wait_for(serve.wait(), 20) == 0

    # The step that was running finished, is stored, and the card was edited to show it.
    assert "checkout replicas 2 → 5" in str(slack.messages[channel][ts]["blocks"])
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            execution = await session.scalar(select(Execution))
            runs = list(await session.scalars(select(StepRun).order_by(StepRun.id)))
    finally:
        await engine.dispose()
    assert execution is not None
    assert execution.status == "running"
    assert execution.lease_expires_at is not None
    assert execution.lease_expires_at < utcnow()
    assert [(run.action, run.status) for run in runs] == [("kubernetes.scale", "succeeded")]

    async with child_process([*CARAPULSE, "worker"], environment=environment, ready=b"worker started"):
        await slack.wait_until(lambda: "Succeeded" in str(slack.messages[channel][ts]["blocks"]), timeout=20)

    scale_patches = [r for r in kube.requests if r.method == "PATCH" and r.path.endswith(SCALE_PATH)]
    assert len(scale_patches) == 1
    assert kube.deployment("shop", "checkout")["spec"]["replicas"] == 5


async def test_a_second_sigterm_exits_at_once(
    database_url: str, fakes: tuple[FakeSlack, FakeKubernetes, Path]
) -> None:
    slack, kube, _ = fakes
    environment = _environment(database_url, fakes, SHUTDOWN_GRACE_SECONDS="120")
    driver = SlackDriver(f"http://127.0.0.1:{environment['PORT']}", SIGNING_SECRET, slack)
    kube.stall_next("PATCH", SCALE_PATH, seconds=60)

    async with AsyncExitStack() as stack:
        serve = await stack.enter_async_context(
            child_process([*CARAPULSE, "serve"], environment=environment, ready=b"listening on port")
        )
        await _approved_scale(driver, slack)
        serve.send_signal(signal.SIGTERM)
        # The first signal was taken: the process is draining, waiting on the 60 s step.
        assert (await driver.slash_command("status 1", user=ALICE)).status == 503
        assert serve.returncode is None
        serve.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(serve.wait(), 5) == 128 + signal.SIGTERM
