"""Alert intake: alerts per minute `carapulse serve` takes through `/hooks/alertmanager` with
de-duplication, and how fast it answers each webhook.

`carapulse serve` runs as a real process against the fake Slack and fake Kubernetes from bot/playground,
on SQLite (or `--database-url`). Alertmanager-shaped deliveries (the recorded body in tests/fixtures,
one alert each, bearer-authenticated) cycle through `--groups` alert groups (alertname + service) of
`--alerts` distinct fingerprints, so most deliveries repeat an alert the gate already holds, as
Alertmanager's resends do. Two phases:

1. paced: deliveries sent at `--rate` per minute for `--seconds`, each on its own schedule (an open
   loop, so a slow answer does not slow the sender down): the answer latency at that rate;
2. flat out: `--concurrency` clients each sending its next delivery as soon as the last is answered,
   for `--seconds`: the most alerts per minute the process takes.

Then it waits until every group's incident message shows its final counter and prints the Slack calls
it cost. Targets on the 2-core development machine: >= 5,000 alerts/min, p99 answer <= 50 ms.

Usage: python bench/alert_intake.py [--rate 6000] [--seconds 30] [--groups 20] [--alerts 400]
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
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.playground.kubernetes.server import FakeKubernetes
from bot.playground.slack.state import OPS_CHANNEL
from bot.playground.slack.web_api import FakeSlack
from tests.alerts import alert, webhook
from tests.harness import bot_environment
from tests.hooks import HOOK_SETTINGS, post
from tests.processes import child_process, free_port

SETTLE_SECONDS = 120.0


async def main(arguments: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        async with AsyncExitStack() as stack:
            slack = await stack.enter_async_context(FakeSlack())
            kube = await stack.enter_async_context(FakeKubernetes())
            database_url = arguments.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
            kubeconfig = kube.write_kubeconfig(workdir / "kubeconfig")
            environment = {
                **bot_environment(database_url=database_url, slack=slack, kubeconfig=kubeconfig),
                **HOOK_SETTINGS,
                "INCIDENT_DEFAULT_CHANNEL": OPS_CHANNEL,
                "CARD_UPDATE_INTERVAL_SECONDS": str(arguments.edit_interval),
                "LOG_LEVEL": "WARNING",
            }
            url = await stack.enter_async_context(_serve(environment))
            bodies = itertools.cycle(_deliveries(arguments.groups, arguments.alerts))
            connector = aiohttp.TCPConnector(limit=arguments.concurrency * 4)
            session = await stack.enter_async_context(aiohttp.ClientSession(connector=connector))
            await _warm_up(url, session, slack, arguments.groups)
            paced = await _paced(url, session, bodies, rate=arguments.rate, seconds=arguments.seconds)
            flat, flat_seconds = await _flat_out(
                url, session, bodies, concurrency=arguments.concurrency, seconds=arguments.seconds
            )
            started = time.perf_counter()
            await slack.wait_until(
                lambda: _incidents(slack) >= arguments.groups or None, timeout=SETTLE_SECONDS
            )
            _report(arguments, paced, flat, flat_seconds, slack, time.perf_counter() - started)


def _deliveries(groups: int, alerts: int) -> list[dict]:
    """One body per alert; alerts are spread over the groups (alertname + service)."""
    return [
        webhook(
            alert(
                fingerprint=f"f{n:06d}",
                alertname=f"Bench{n % groups}",
                service=f"svc{n % groups}",
                pod=f"p{n}",
            )
        )
        for n in range(alerts)
    ]


async def _warm_up(url: str, session: aiohttp.ClientSession, slack: FakeSlack, groups: int) -> None:
    """Open every group's incident and wait for its thread: opening one (its diagnostics load the
    Kubernetes client on first use) is paid once per incident, not per alert, so it is not measured."""
    for body in _deliveries(groups, groups):
        await _timed(url, session, body)
    await slack.wait_until(lambda: _replies(slack, "Diagnostics") >= groups or None, timeout=SETTLE_SECONDS)


async def _paced(
    url: str, session: aiohttp.ClientSession, bodies: itertools.cycle, *, rate: int, seconds: float
) -> list[float]:
    interval = 60.0 / rate
    start = time.perf_counter()
    tasks = []
    for n in range(int(rate * seconds / 60)):
        delay = start + n * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_timed(url, session, next(bodies))))
    return list(await asyncio.gather(*tasks))


async def _flat_out(
    url: str, session: aiohttp.ClientSession, bodies: itertools.cycle, *, concurrency: int, seconds: float
) -> tuple[list[float], float]:
    deadline = time.perf_counter() + seconds
    samples: list[float] = []

    async def client() -> None:
        while time.perf_counter() < deadline:
            samples.append(await _timed(url, session, next(bodies)))

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return samples, time.perf_counter() - started


async def _timed(url: str, session: aiohttp.ClientSession, body: dict) -> float:
    started = time.perf_counter()
    answer = await post(url, "alertmanager", body, session=session)
    if answer.status != 200:
        raise SystemExit(f"webhook answered {answer.status}: {answer.text}")
    return (time.perf_counter() - started) * 1000


def _report(
    arguments: argparse.Namespace,
    paced: list[float],
    flat: list[float],
    flat_seconds: float,
    slack: FakeSlack,
    settle_seconds: float,
) -> None:
    groups, alerts = arguments.groups, arguments.alerts
    print(f"alert intake: {groups} groups of {alerts} distinct alerts, one alert per webhook")
    print(f"  paced at {arguments.rate}/min for {arguments.seconds:g} s: {len(paced)} webhooks")
    print(
        f"    answer p50 {_pct(paced, 50):6.2f} ms  p99 {_pct(paced, 99):6.2f} ms  max {max(paced):6.2f} ms"
    )
    print(f"  flat out, {arguments.concurrency} clients for {flat_seconds:.1f} s: {len(flat)} webhooks")
    print(f"    {len(flat) / flat_seconds * 60:,.0f} alerts/min sustained")
    print(f"    answer p50 {_pct(flat, 50):6.2f} ms  p99 {_pct(flat, 99):6.2f} ms")
    updates = len(slack.calls_to("chat.update"))
    posts = len(slack.calls_to("chat.postMessage"))
    print(
        f"  incident messages: {_incidents(slack)} for {groups} groups (settled {settle_seconds:.1f} s later)"
    )
    webhooks = len(paced) + len(flat) + groups
    print(f"  Slack calls: {posts} chat.postMessage, {updates} chat.update for {webhooks} webhooks")
    print("  targets: >= 5,000 alerts/min, p99 <= 50 ms")


def _incidents(slack: FakeSlack) -> int:
    return _replies(slack, "Incident #")


def _replies(slack: FakeSlack, prefix: str) -> int:
    return sum(1 for m in slack.messages[OPS_CHANNEL].values() if m.get("text", "").startswith(prefix))


@asynccontextmanager
async def _serve(environment: dict[str, str]) -> AsyncIterator[str]:
    port = free_port()
    child_environment = {**os.environ, **environment, "PORT": str(port), "LOG_LEVEL": "INFO"}
    argv = [sys.executable, "-m", "bot", "serve", "--no-worker"]
    async with child_process(argv, environment=child_environment, ready=b"listening on port"):
        yield f"http://127.0.0.1:{port}"


def _pct(samples: list[float], percentile: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[percentile - 1]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=6000, help="webhooks per minute in the paced phase")
    parser.add_argument("--seconds", type=float, default=30, help="length of each phase")
    parser.add_argument("--groups", type=int, default=20, help="alert groups (incidents)")
    parser.add_argument("--alerts", type=int, default=400, help="distinct alerts (fingerprints)")
    parser.add_argument("--concurrency", type=int, default=8, help="clients in the flat-out phase")
    parser.add_argument("--edit-interval", type=float, default=1.0, help="CARD_UPDATE_INTERVAL_SECONDS")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    asyncio.run(main(parser.parse_args()))
