"""Time from an Approve click to the first edit of the plan card, through `carapulse serve`.

`carapulse serve` runs as a real process (SQLite, or DATABASE_URL if set) against the fake Slack
and fake Kubernetes from bot/playground. For each plan: post `/carapulse scale checkout to N in shop`,
wait for its card, click Approve as another user, and time until Slack receives the first
chat.update of that card. Prints p50/p99 in milliseconds.

Usage: python bench/approve_latency.py [--plans 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from blocks import ids
from bot.playground.kubernetes.server import FakeKubernetes
from bot.playground.slack.driver import SlackDriver
from bot.playground.slack.state import ALICE, BOB
from bot.playground.slack.web_api import FakeSlack
from tests.harness import SIGNING_SECRET, bot_environment
from tests.processes import child_process, free_port


async def main(plans: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        async with FakeSlack() as slack, FakeKubernetes() as kube:
            kube.add_deployment("shop", "checkout", replicas=2)
            port = free_port()
            environment = {
                **os.environ,
                **bot_environment(
                    database_url=os.environ.get(
                        "DATABASE_URL", f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
                    ),
                    slack=slack,
                    kubeconfig=kube.write_kubeconfig(workdir / "kubeconfig"),
                ),
                "PORT": str(port),
                "CARD_UPDATE_INTERVAL_SECONDS": "1",
            }
            argv = [sys.executable, "-m", "bot", "serve"]
            async with child_process(argv, environment=environment, ready=b"listening on port"):
                driver = SlackDriver(f"http://127.0.0.1:{port}", SIGNING_SECRET, slack)
                samples = [await _one(driver, slack, n) for n in range(plans)]
    print(f"approve click → first card edit, {plans} plans, carapulse serve on SQLite or DATABASE_URL")
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    print(f"  p50 {cuts[49]:6.2f} ms   p99 {cuts[98]:6.2f} ms")


async def _one(driver: SlackDriver, slack: FakeSlack, n: int) -> float:
    await driver.slash_command(f"scale checkout to {n % 9 + 1} in shop", user=ALICE)
    card = await slack.wait_for(
        lambda c: c.method == "chat.postMessage" and c.ok and "thread_ts" not in c.args,
        after=len(slack.calls),
    )
    # The card is edited once more right after it is posted; let that settle first.
    await asyncio.sleep(1.2)
    ts = card.response["ts"]
    mark = len(slack.calls)
    started = time.perf_counter()
    await driver.block_action(
        ids.PLAN_APPROVE, card.args["blocks"][-2]["elements"][0]["value"], user=BOB, message_ts=ts
    )
    await slack.wait_for(lambda c: c.method == "chat.update" and c.args.get("ts") == ts, after=mark)
    elapsed = (time.perf_counter() - started) * 1000
    await slack.wait_until(lambda: "Succeeded" in str(slack.messages[card.response["channel"]][ts]["blocks"]))
    return elapsed


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=50)
    asyncio.run(main(parser.parse_args().plans))
