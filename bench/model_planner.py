"""What a model planner costs `carapulse serve`: start-up and idle memory with PLANNER=rules, openai and
anthropic (the SDK must not load until the first request), then the first plan (which loads the
SDK, in a thread), a second plan, the memory once the SDK is in, and how long a `/carapulse help` sent
while the SDK loads waits for its ack.

Each run is a real `python -m bot serve` process against the fake Slack, the fake Kubernetes and a
fake OpenAI or Anthropic served from this process (tests/fakes), which answers every plan at once
with the same two-step restart plan; so the plan times are Carapulse's own work plus loopback HTTP,
not a model's thinking.

Usage: python bench/model_planner.py [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp

from bench.startup import _cpu_seconds, _expect_ok, _rss_mb
from bot.playground.kubernetes.server import FakeKubernetes
from bot.playground.slack.driver import SlackDriver
from bot.playground.slack.web_api import FakeSlack
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.model_api import FakeModelApi, answer
from tests.fakes.openai_api import FakeOpenAI
from tests.harness import SIGNING_SECRET, bot_environment
from tests.integration.actions.model_support import API_KEY, restart_plan
from tests.processes import child_process, free_port

ROOT = Path(__file__).resolve().parents[1]
IDLE_SECONDS = 2.0
PLANNERS = {
    "rules": None,
    "openai": ("gpt-4.1", "OPENAI_API_KEY"),
    "anthropic": ("claude-sonnet-4-5", "ANTHROPIC_API_KEY"),
}


@dataclass(frozen=True)
class Run:
    readyz_seconds: float
    cpu_seconds: float
    idle_rss_mb: float
    first_plan_seconds: float
    help_ack_seconds: float
    second_plan_seconds: float
    rss_after_plans_mb: float


async def main(runs: int) -> int:
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        async with (
            FakeSlack() as slack,
            FakeKubernetes() as kube,
            FakeOpenAI(api_key=API_KEY) as openai_api,
            FakeAnthropic(api_key=API_KEY) as anthropic_api,
        ):
            kube.add_deployment("shop", "checkout", replicas=2)
            kubeconfig = kube.write_kubeconfig(workdir / "kubeconfig")
            fakes: dict[str, FakeModelApi] = {"openai": openai_api, "anthropic": anthropic_api}
            results: dict[str, list[Run]] = {name: [] for name in PLANNERS}
            for number in range(runs + 1):
                for name, model in PLANNERS.items():
                    database = f"sqlite+aiosqlite:///{workdir / f'{name}-{number}.db'}"
                    environment = {
                        **bot_environment(database_url=database, slack=slack, kubeconfig=kubeconfig),
                        "PYTHONPYCACHEPREFIX": str(workdir / "bytecode"),
                        "PYTHONPATH": str(ROOT),
                    }
                    if model is not None:
                        fake = fakes[name]
                        fake.then(*[answer("propose_plan", restart_plan())] * 2)
                        environment |= {
                            "PLANNER": name,
                            "PLANNER_MODEL": model[0],
                            "PLANNER_BASE_URL": fake.base_url,
                            model[1]: API_KEY,
                        }
                    run = await _run(environment, slack)
                    # The first round fills the bytecode cache, as an installed package has it.
                    if number:
                        results[name].append(run)
    print(f"carapulse serve with each planner, {runs} runs each (fake providers answer at once)")
    print(f"  {'':28s} " + " ".join(f"{name:>22s}" for name in PLANNERS))
    for label, field in (
        ("/readyz 200 (s)", "readyz_seconds"),
        ("CPU to /readyz (s)", "cpu_seconds"),
        ("idle RSS (MB)", "idle_rss_mb"),
        ("first plan card (s)", "first_plan_seconds"),
        ("help ack meanwhile (s)", "help_ack_seconds"),
        ("second plan card (s)", "second_plan_seconds"),
        ("RSS after plans (MB)", "rss_after_plans_mb"),
    ):
        cells = [_cell([getattr(run, field) for run in results[name]]) for name in PLANNERS]
        print(f"  {label:28s} " + " ".join(f"{cell:>22s}" for cell in cells))
    print("  (median, and min-max in brackets)")
    return 0


async def _run(environment: dict[str, str], slack: FakeSlack) -> Run:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    child_environment = {**os.environ, **environment, "PORT": str(port)}
    child_environment.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    argv = [sys.executable, "-m", "bot", "serve"]
    async with (
        child_process(argv, environment=child_environment, ready=b"listening on port") as process,
        aiohttp.ClientSession() as http,
    ):
        await _expect_ok(http, f"{url}/readyz")
        readyz = time.perf_counter() - started
        cpu = _cpu_seconds(process.pid)
        driver = SlackDriver(url, SIGNING_SECRET, slack)
        await asyncio.sleep(IDLE_SECONDS)
        idle_rss = _rss_mb(process.pid)
        first, help_ack = await _plan(driver, with_help=True)
        second, _ = await _plan(driver, with_help=False)
        await asyncio.sleep(IDLE_SECONDS)
        rss = _rss_mb(process.pid)
    return Run(readyz, cpu, idle_rss, first, help_ack, second, rss)


async def _plan(driver: SlackDriver, *, with_help: bool) -> tuple[float, float]:
    """Seconds from sending the command to its card being posted, and (with `with_help`) how long a
    help command sent right after it waited for its answer."""
    calls_before = len(driver.fake.calls)
    started = time.perf_counter()
    response = await driver.slash_command("restart checkout in shop")
    if response.status != 200:
        raise SystemExit(f"/carapulse got HTTP {response.status}: {response.body}")
    help_ack = 0.0
    if with_help:
        asked = time.perf_counter()
        await driver.slash_command("help")
        help_ack = time.perf_counter() - asked
    await driver.fake.wait_for(
        lambda call: call.method == "chat.postMessage" and call.ok, after=calls_before, timeout=60
    )
    return time.perf_counter() - started, help_ack


def _cell(samples: list[float]) -> str:
    return f"{statistics.median(samples):.2f} [{min(samples):.2f}-{max(samples):.2f}]"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    sys.exit(asyncio.run(main(parser.parse_args().runs)))
