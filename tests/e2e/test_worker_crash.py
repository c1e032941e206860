"""A worker killed with SIGKILL mid-step: another worker takes the execution over when the lease
expires, and the plan completes exactly once."""

from __future__ import annotations

import os
import signal
import sys
from contextlib import AsyncExitStack
from pathlib import Path

from blocks import ids
from bot.playground.kubernetes.server import FakeKubernetes
from bot.playground.slack.driver import SlackDriver
from bot.playground.slack.state import ALICE, BOB
from bot.playground.slack.web_api import FakeSlack
from tests.harness import SIGNING_SECRET, bot_environment
from tests.processes import child_process, free_port

CARAPULSE = [sys.executable, "-m", "bot"]


async def test_killed_worker_is_taken_over_and_the_plan_completes_once(
    database_url: str, fakes: tuple[FakeSlack, FakeKubernetes, Path]
) -> None:
    slack, kube, kubeconfig = fakes
    port = free_port()
    environment = {
        **os.environ,
        **bot_environment(database_url=database_url, slack=slack, kubeconfig=kubeconfig),
        "PORT": str(port),
        "WORKER_LEASE_SECONDS": "1.5",
    }
    driver = SlackDriver(f"http://127.0.0.1:{port}", SIGNING_SECRET, slack)
    kube.set_stuck("shop", "checkout", available=2)

    async with AsyncExitStack() as stack:
        await stack.enter_async_context(
            child_process(
                [*CARAPULSE, "serve", "--no-worker"], environment=environment, ready=b"listening on port"
            )
        )
        doomed = await stack.enter_async_context(
            child_process([*CARAPULSE, "worker"], environment=environment, ready=b"worker started")
        )
        await driver.slash_command("scale checkout to 5 in shop", user=ALICE)
        card = await slack.wait_for(lambda c: c.method == "chat.postMessage" and c.ok)
        channel, ts = card.response["channel"], card.response["ts"]

        def card_shows(text: str) -> bool:
            return text in str(slack.messages[channel][ts]["blocks"])

        await driver.block_action(ids.PLAN_APPROVE, "1", user=BOB, message_ts=ts)
        # The scale step is recorded as done (its summary is on the card); the rollout check runs.
        await slack.wait_until(lambda: card_shows("checkout replicas 2 → 5") and card_shows("running"))
        doomed.send_signal(signal.SIGKILL)
        await doomed.wait()

        await stack.enter_async_context(
            child_process([*CARAPULSE, "worker"], environment=environment, ready=b"worker started")
        )
        await slack.wait_until(lambda: card_shows("attempt 2"), timeout=20)
        kube.release("shop", "checkout")
        await slack.wait_until(lambda: card_shows("Succeeded"), timeout=30)

    scale_patches = [r for r in kube.requests if r.method == "PATCH" and r.path.endswith("/checkout/scale")]
    assert len(scale_patches) == 1
    assert kube.deployment("shop", "checkout")["spec"]["replicas"] == 5
