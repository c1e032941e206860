"""Slash-command ack latency: `carapulse serve` next to a bare Bolt AsyncApp that only acks.

Both run as real processes at the same time, against the fake Slack and fake Kubernetes from
bot/playground; every request is a correctly signed `/carapulse scale checkout to N in shop` (for
Carapulse a real plan is planned, decided by policy, stored and its card posted after the ack). With
`--concurrency C`, C clients send at once, each its next request as soon as the last was answered.

The two apps are measured in interleaved rounds (bare, carapulse, bare, ...), so a change in the
machine's load hits both alike; before each round the previous one's cards must all be posted, so
neither app is measured while the other is still busy. Prints p50/p99 of both side by side, the ratio
of the p99s, and how many cards were posted for how many commands.

Usage: python bench/ack_latency.py [--requests 300] [--concurrency 20] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.playground.kubernetes.server import FakeKubernetes
from bot.playground.slack.driver import SlackDriver
from bot.playground.slack.web_api import FakeSlack
from tests.harness import SIGNING_SECRET, bot_environment
from tests.processes import child_process, free_port

WARMUP = 20
BARE = "bare Bolt AsyncApp (ack only)"
CARAPULSE = "carapulse serve"
CARD_SECONDS = 120.0


@dataclass
class Subject:
    name: str
    driver: SlackDriver
    posts_cards: bool
    samples: list[float] = field(default_factory=list)
    sent: int = 0


async def main(requests: int, concurrency: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        async with AsyncExitStack() as stack:
            slack = await stack.enter_async_context(FakeSlack())
            kube = await stack.enter_async_context(FakeKubernetes())
            kube.add_deployment("shop", "checkout", replicas=2)
            environment = bot_environment(
                database_url=f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
                slack=slack,
                kubeconfig=kube.write_kubeconfig(workdir / "kubeconfig"),
            )
            bare_url = await stack.enter_async_context(_server(_BARE_ARGV, environment, slack))
            carapulse_url = await stack.enter_async_context(_server(_CARAPULSE_ARGV, environment, slack))
            subjects = [
                Subject(BARE, SlackDriver(bare_url, SIGNING_SECRET, slack), posts_cards=False),
                Subject(CARAPULSE, SlackDriver(carapulse_url, SIGNING_SECRET, slack), posts_cards=True),
            ]
            replicas = itertools.count(3)
            for subject in subjects:
                await _round(subject, slack, WARMUP, concurrency, replicas, record=False)
            per_round = max(1, requests // rounds)
            for _ in range(rounds):
                for subject in subjects:
                    await _round(subject, slack, per_round, concurrency, replicas, record=True)
            _report(subjects, slack, concurrency, per_round * rounds)


async def _round(
    subject: Subject,
    slack: FakeSlack,
    requests: int,
    concurrency: int,
    replicas: itertools.count[int],
    *,
    record: bool,
) -> None:
    """Send `requests` commands from `concurrency` clients; then wait for every card of them."""
    pending = iter(range(requests))

    async def client() -> None:
        for _ in pending:
            request = subject.driver.slash_command_request(f"scale checkout to {next(replicas)} in shop")
            started = time.perf_counter()
            response = await request.send()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200:
                raise SystemExit(f"{subject.name} got HTTP {response.status}: {response.body}")
            if record:
                subject.samples.append(elapsed)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    subject.sent += requests
    if subject.posts_cards:
        await slack.wait_until(lambda: _cards(slack) >= subject.sent or None, timeout=CARD_SECONDS)


def _report(subjects: Sequence[Subject], slack: FakeSlack, concurrency: int, requests: int) -> None:
    print(f"slash-command ack latency, {concurrency} concurrent clients, {requests} requests per app")
    print(f"in interleaved rounds, after {WARMUP} warm-up requests each")
    for subject in subjects:
        p50, p99 = _pct(subject.samples, 50), _pct(subject.samples, 99)
        print(f"  {subject.name:32s} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")
    bare, carapulse = subjects
    ratio = _pct(carapulse.samples, 99) / _pct(bare.samples, 99)
    print(f"  carapulse p99 / bare p99: {ratio:.2f} (target <= 0.75)")
    print(f"  cards posted: {_cards(slack)} for {carapulse.sent} commands")


def _cards(slack: FakeSlack) -> int:
    return sum(
        1
        for messages in slack.messages.values()
        for message in messages.values()
        if message.get("text", "").startswith("Plan #")
        and message.get("thread_ts", message["ts"]) == message["ts"]
    )


_BARE_ARGV = (sys.executable, str(Path(__file__).with_name("bare_bolt.py")))
_CARAPULSE_ARGV = (sys.executable, "-m", "bot", "serve")


@asynccontextmanager
async def _server(argv: Sequence[str], environment: dict[str, str], slack: FakeSlack) -> AsyncIterator[str]:
    port = free_port()
    extra = [str(port), SIGNING_SECRET, slack.api_url] if argv is _BARE_ARGV else []
    child_environment = {**os.environ, **environment, "PORT": str(port)}
    async with child_process([*argv, *extra], environment=child_environment, ready=b"listening on port"):
        yield f"http://127.0.0.1:{port}"


def _pct(samples: list[float], percentile: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[percentile - 1]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="measured requests per app")
    parser.add_argument("--concurrency", type=int, default=1, help="clients sending at once")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per app")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.requests, arguments.concurrency, arguments.rounds))
