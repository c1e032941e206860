"""Cold start of `carapulse serve`: seconds from process start to the first 200 from /healthz and
/readyz, and the idle RSS once it has answered a few requests, and again after a Kubernetes step.

Each run is a real `python -m bot serve` process with its worker, against the fake Slack and the
fake Kubernetes from bot/playground, with kubernetes (a kubeconfig for the fake), prometheus and
alertmanager (URLs on a local port nothing listens on) configured. N runs start on a fresh SQLite
database, so the migrations run; one more starts on a database already at head. After /readyz
answers, the run sends a signed `/carapulse scale checkout to N in shop` (a plan is stored and its
card posted) and probes /healthz, /readyz and /metrics; once idle, the idle RSS is VmRSS from
/proc/<pid>/status. Then it approves the plan as another user and waits until the card says it
succeeded: the worker ran the Kubernetes step, which loads the client library, and RSS is read
again once idle. Also prints how many requests the fake cluster saw before the service was ready:
tools must not connect at start-up.

The children read and write bytecode in a cache of their own (PYTHONPYCACHEPREFIX in the temporary
directory, whatever PYTHONDONTWRITEBYTECODE says here), as an installed package has its modules
compiled: one uncounted first start fills the cache, and its time is printed as well.

`--python` runs serve with another interpreter, e.g. that of a venv holding only the runtime
dependencies (`pip install .`, as the Dockerfile does), still on this checkout's code.

Usage: python bench/startup.py [--runs 5] [--python PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp

from blocks import ids
from bot.playground.kubernetes.server import FakeKubernetes
from bot.playground.slack.driver import SlackDriver
from bot.playground.slack.state import BOB
from bot.playground.slack.web_api import FakeSlack, RecordedCall
from tests.harness import SIGNING_SECRET, bot_environment
from tests.processes import child_process, free_port

ROOT = Path(__file__).resolve().parents[1]
TARGET_READY_SECONDS = 2.0
TARGET_RSS_MB = 150.0
IDLE_SECONDS = 2.0
PROBES = ("/healthz", "/readyz", "/metrics")


@dataclass(frozen=True)
class Start:
    healthz_seconds: float
    readyz_seconds: float
    # CPU the process used until /readyz answered: less bent by other work on the machine than the wall clock.
    cpu_seconds: float
    rss_mb: float
    rss_after_step_mb: float
    cluster_requests_before_ready: int


async def main(runs: int, python: str) -> int:
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        async with FakeSlack() as slack, FakeKubernetes() as kube:
            kube.add_deployment("shop", "checkout", replicas=2)
            kubeconfig = kube.write_kubeconfig(workdir / "kubeconfig")
            nowhere = f"http://127.0.0.1:{free_port()}"

            def environment(database: Path) -> dict[str, str]:
                url = f"sqlite+aiosqlite:///{database}"
                return {
                    **bot_environment(database_url=url, slack=slack, kubeconfig=kubeconfig),
                    "PROMETHEUS_URL": nowhere,
                    "ALERTMANAGER_URL": nowhere,
                    "PYTHONPYCACHEPREFIX": str(workdir / "bytecode"),
                    "PYTHONPATH": str(ROOT),
                }

            async def start(database: str, replicas: int) -> Start:
                argv = [python, "-m", "bot", "serve"]
                return await _start(argv, environment(workdir / database), slack, kube, replicas=replicas)

            # Each run scales to a count of its own, so every plan changes the deployment.
            compiling = await start("compiling.db", 3)
            fresh = [await start(f"fresh-{n}.db", 4 + n) for n in range(runs)]
            migrated = await start("fresh-0.db", 4 + runs)
    print(f"carapulse serve cold start, {runs} runs on a fresh SQLite database, {python}")
    print("  (kubernetes, prometheus and alertmanager configured; worker running)")
    print(f"  {'':24s} {'min':>7s} {'median':>7s} {'max':>7s}   target")
    _row("/healthz 200 (s)", [s.healthz_seconds for s in fresh], TARGET_READY_SECONDS)
    _row("/readyz 200 (s)", [s.readyz_seconds for s in fresh], TARGET_READY_SECONDS)
    _row("idle RSS (MB)", [s.rss_mb for s in fresh], TARGET_RSS_MB)
    _row("RSS after k8s step (MB)", [s.rss_after_step_mb for s in fresh], TARGET_RSS_MB)
    _row("CPU to /readyz (s)", [s.cpu_seconds for s in fresh], None)
    print(
        f"  database already at head: /healthz {migrated.healthz_seconds:.2f} s, "
        f"/readyz {migrated.readyz_seconds:.2f} s, idle RSS {migrated.rss_mb:.0f} MB, "
        f"{migrated.rss_after_step_mb:.0f} MB after a step"
    )
    print(f"  first start, compiling every module: /readyz {compiling.readyz_seconds:.2f} s (not counted)")
    contacted = max(s.cluster_requests_before_ready for s in [compiling, *fresh, migrated])
    print(f"  requests the fake cluster saw before ready: {contacted} (expected 0)")
    return 0 if contacted == 0 else 1


async def _start(
    argv: list[str], environment: dict[str, str], slack: FakeSlack, kube: FakeKubernetes, *, replicas: int
) -> Start:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    child_environment = {**os.environ, **environment, "PORT": str(port)}
    child_environment.pop("PYTHONDONTWRITEBYTECODE", None)
    requests_before = len(kube.requests)
    started = time.perf_counter()
    async with (
        child_process(argv, environment=child_environment, ready=b"listening on port") as process,
        aiohttp.ClientSession() as http,
    ):
        await _expect_ok(http, f"{url}/healthz")
        healthz = time.perf_counter() - started
        await _expect_ok(http, f"{url}/readyz")
        readyz = time.perf_counter() - started
        cpu = _cpu_seconds(process.pid)
        contacted = len(kube.requests) - requests_before
        driver = SlackDriver(url, SIGNING_SECRET, slack)
        card = await _plan_card(driver, f"scale checkout to {replicas} in shop")
        for path in PROBES:
            await _expect_ok(http, f"{url}{path}")
        await asyncio.sleep(IDLE_SECONDS)
        rss = _rss_mb(process.pid)
        await _approve_until_succeeded(driver, card)
        await asyncio.sleep(IDLE_SECONDS)
        rss_after_step = _rss_mb(process.pid)
    return Start(healthz, readyz, cpu, rss, rss_after_step, contacted)


async def _plan_card(driver: SlackDriver, text: str) -> RecordedCall:
    calls_before = len(driver.fake.calls)
    response = await driver.slash_command(text)
    if response.status != 200:
        raise SystemExit(f"/carapulse got HTTP {response.status}: {response.body}")
    return await driver.fake.wait_for(lambda c: c.method == "chat.postMessage" and c.ok, after=calls_before)


async def _approve_until_succeeded(driver: SlackDriver, card: RecordedCall) -> None:
    plan = re.match(r"Plan #(\d+):", card.args["text"])
    if plan is None:
        raise SystemExit(f"the first message posted is not a plan card: {card.args['text']!r}")
    channel, ts = card.response["channel"], card.response["ts"]
    await driver.block_action(ids.PLAN_APPROVE, plan[1], user=BOB, message_ts=ts)

    def succeeded() -> bool | None:
        return "Succeeded" in str(driver.fake.messages[channel][ts]["blocks"]) or None

    await driver.fake.wait_until(succeeded, timeout=30)


async def _expect_ok(http: aiohttp.ClientSession, url: str) -> None:
    async with http.get(url) as response:
        if response.status != 200:
            raise SystemExit(f"GET {url} got HTTP {response.status}: {await response.text()}")


def _cpu_seconds(pid: int) -> float:
    # /proc/<pid>/stat: the command name is in parentheses; utime and stime follow as fields 14 and 15.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"no VmRSS in /proc/{pid}/status")


def _row(label: str, samples: list[float], target: float | None) -> None:
    figures = f"{min(samples):7.2f} {statistics.median(samples):7.2f} {max(samples):7.2f}"
    if target is None:
        print(f"  {label:24s} {figures}")
        return
    verdict = "ok" if max(samples) <= target else "MISSED"
    print(f"  {label:24s} {figures}   <= {target:g} {verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--python", default=sys.executable, help="interpreter that runs carapulse serve")
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.runs, arguments.python)))
