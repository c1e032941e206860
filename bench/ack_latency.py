"""Slash-command ack latency: `carapulse serve` next to a bare Bolt AsyncApp that only acks.

Both run as real processes against the fake Slack and fake Kubernetes from tests/fakes; every
request is a correctly signed `/carapulse scale checkout to 5 in shop` (for Carapulse a real plan
is stored and its card posted after the ack). Prints p50/p99 in milliseconds.

Usage: python bench/ack_latency.py [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.kubernetes import FakeKubernetes
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_driver import SlackDriver
from tests.harness import SIGNING_SECRET, bot_environment
from tests.processes import child_process, free_port

WARMUP = 20


async def main(requests: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        async with FakeSlack() as slack, FakeKubernetes() as kube:
            kube.add_deployment("shop", "checkout", replicas=2)
            kubeconfig = kube.write_kubeconfig(workdir / "kubeconfig")
            environment = bot_environment(
                database_url=f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
                slack=slack,
                kubeconfig=kubeconfig,
            )
            carapulse = [sys.executable, "-m", "bot", "serve"]
            bare = [sys.executable, str(Path(__file__).with_name("bare_bolt.py"))]
            results = {}
            for name, argv in (("bare Bolt AsyncApp (ack only)", bare), ("carapulse serve", carapulse)):
                async with _server(argv, environment, slack) as url:
                    results[name] = await _measure(SlackDriver(url, SIGNING_SECRET, slack), requests)
    print(f"slash-command ack latency, {requests} sequential requests after {WARMUP} warm-up")
    for name, samples in results.items():
        print(f"  {name:32s} p50 {_pct(samples, 50):6.2f} ms   p99 {_pct(samples, 99):6.2f} ms")


async def _measure(driver: SlackDriver, requests: int) -> list[float]:
    samples: list[float] = []
    for n in range(WARMUP + requests):
        request = driver.slash_command_request("scale checkout to 5 in shop")
        started = time.perf_counter()
        response = await request.send()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise SystemExit(f"request {n} got HTTP {response.status}: {response.body}")
        if n >= WARMUP:
            samples.append(elapsed)
    return samples


@asynccontextmanager
async def _server(argv: Sequence[str], environment: dict[str, str], slack: FakeSlack) -> AsyncIterator[str]:
    port = free_port()
    extra = [str(port), SIGNING_SECRET, slack.api_url] if argv[-1].endswith("bare_bolt.py") else []
    child_environment = {**os.environ, **environment, "PORT": str(port)}
    async with child_process([*argv, *extra], environment=child_environment, ready=b"listening on port"):
        yield f"http://127.0.0.1:{port}"


def _pct(samples: list[float], percentile: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[percentile - 1]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    asyncio.run(main(parser.parse_args().requests))
