"""Worker throughput: no-op steps per second with 1 and 2 worker processes on PostgreSQL, 1 on SQLite.

For each configuration a fresh database gets N queued plans of K no-op act steps (bench/_support.py),
then worker processes start, each a real `Worker` over a registry holding only the no-op action, and
all are released at once. The clock runs from that release until the last worker found no more
work. The action returns at once, so the time is what the worker costs per step: its transactions,
audit rows, lease and cancel checks. Slack is left out (a silent observer); bench/slack_calls.py
measures that side. Afterwards every step must have run exactly once: the workers report each run
of the action, and the database must show every execution succeeded on its first attempt.

Usage: python bench/worker_throughput.py [--plans 200] [--steps 5] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench._support import NoopAction, queue_plans
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import upgrade_to_head
from bot.db.models import Execution, StepRun
from bot.domain import ExecutionStatus, StepStage, StepState
from bot.worker import Worker
from tests.databases import throwaway_database
from tools.registry import Registry

READY = "ready"
GO = b"go\n"
LEASE_SECONDS = 30.0


@dataclass(frozen=True)
class Outcome:
    label: str
    workers: int
    seconds: float
    runs_per_worker: list[int]
    problems: list[str]


async def main(plans: int, steps: int, skip_postgres: bool) -> int:
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        outcomes.append(
            await _configuration("SQLite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}", 1, plans, steps)
        )
        if not skip_postgres:
            for workers in (1, 2):
                async with AsyncExitStack() as stack:
                    url = await _postgres(stack, workdir)
                    if url is None:
                        break
                    outcomes.append(await _configuration("PostgreSQL", url, workers, plans, steps))
    print(f"worker throughput, {plans} plans x {steps} no-op act steps, {os.cpu_count()} CPUs")
    for outcome in outcomes:
        _report(outcome, plans, steps)
    return 1 if any(outcome.problems for outcome in outcomes) else 0


async def _postgres(stack: AsyncExitStack, workdir: Path) -> str | None:
    """A throwaway PostgreSQL database, or None (after saying why) when the server is unreachable."""
    try:
        return await stack.enter_async_context(throwaway_database("postgres", workdir))
    except (OSError, asyncpg.PostgresError, pytest.skip.Exception) as exc:
        print(f"PostgreSQL runs skipped: {_one_line(exc)} (pass --skip-postgres to leave them out)")
        return None


async def _configuration(label: str, url: str, workers: int, plans: int, steps: int) -> Outcome:
    engine = create_engine(url)
    try:
        await upgrade_to_head(engine)
        await queue_plans(create_session_factory(engine), count=plans, steps=steps)
        seconds, runs = await _run_workers(url, workers)
        problems = _check_runs(runs, plans, steps) + await _check_database(engine, plans, steps)
    finally:
        await engine.dispose()
    return Outcome(label, workers, seconds, [len(r) for r in runs], problems)


async def _run_workers(url: str, workers: int) -> tuple[float, list[list[tuple[int, int]]]]:
    """Start the worker processes, release them together once all are ready, and wait for each to
    report the steps it ran; the seconds from release to the last report, and the reports."""
    argv = [sys.executable, __file__, "--worker-for", url]
    children = [
        await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(workers)
    ]
    try:
        for child in children:
            await _expect_line(child, READY)
        started = time.perf_counter()
        for child in children:
            assert child.stdin is not None
            child.stdin.write(GO)
        reports = await asyncio.gather(*(_report_of(child) for child in children))
        seconds = time.perf_counter() - started
    finally:
        for child in children:
            if child.returncode is None:
                child.kill()
            await child.wait()
    return seconds, reports


async def _expect_line(child: asyncio.subprocess.Process, expected: str) -> str:
    assert child.stdout is not None
    line = (await child.stdout.readline()).decode().strip()
    if not line.startswith(expected):
        raise RuntimeError(
            f"worker process {child.pid} said {line!r} instead of {expected!r} (see its stderr)"
        )
    return line


async def _report_of(child: asyncio.subprocess.Process) -> list[tuple[int, int]]:
    line = await _expect_line(child, "{")
    return [(plan, step) for plan, step in json.loads(line)["runs"]]


def _check_runs(runs: list[list[tuple[int, int]]], plans: int, steps: int) -> list[str]:
    counts = Counter(run for worker_runs in runs for run in worker_runs)
    expected = {(plan, step) for plan in range(plans) for step in range(steps)}
    problems = []
    if repeated := [run for run, n in counts.items() if n > 1]:
        problems.append(f"{len(repeated)} steps ran more than once, e.g. (plan, step) {repeated[0]}")
    if missing := expected - set(counts):
        problems.append(f"{len(missing)} steps never ran, e.g. (plan, step) {min(missing)}")
    return problems


async def _check_database(engine: AsyncEngine, plans: int, steps: int) -> list[str]:
    sessions = create_session_factory(engine)
    async with sessions() as session:
        first_time = await session.scalar(
            select(func.count())
            .select_from(Execution)
            .where(Execution.status == ExecutionStatus.SUCCEEDED, Execution.attempts == 1)
        )
        succeeded_steps = await session.scalar(
            select(func.count())
            .select_from(StepRun)
            .where(StepRun.stage == StepStage.ACT, StepRun.status == StepState.SUCCEEDED)
        )
    problems = []
    if first_time != plans:
        problems.append(f"only {first_time} of {plans} executions succeeded on their first attempt")
    if succeeded_steps != plans * steps:
        problems.append(f"{succeeded_steps} succeeded step runs stored for {plans * steps} steps")
    return problems


def _report(outcome: Outcome, plans: int, steps: int) -> None:
    total = plans * steps
    per_step_ms = outcome.seconds * outcome.workers / total * 1000
    split = " + ".join(str(n) for n in outcome.runs_per_worker)
    check = (
        "every step ran exactly once"
        if not outcome.problems
        else "NOT exactly once: " + "; ".join(outcome.problems)
    )
    print(
        f"  {outcome.label:10s} {outcome.workers} worker{'s' if outcome.workers > 1 else ' '}  "
        f"{total / outcome.seconds:7.1f} steps/s  {plans / outcome.seconds:6.1f} plans/s  "
        f"{per_step_ms:5.2f} ms worker time per step  ({outcome.seconds:.2f} s; runs {split}; {check})"
    )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class _SilentObserver:
    """The worker's observer when Slack is not part of the measurement."""

    def plan_changed(self, team_id: str, plan_id: int) -> None:
        pass

    def plan_finished(self, team_id: str, plan_id: int) -> None:
        pass


async def _serve_worker(url: str) -> None:
    """One worker process: say ready, wait for the go line, run executions until none is left to
    claim (all were queued before the release), then print the (plan, step) runs as JSON."""
    engine = create_engine(url)
    action = NoopAction()
    worker = Worker(
        sessions=create_session_factory(engine),
        registry=Registry([action]),
        observer=_SilentObserver(),
        lease_seconds=LEASE_SECONDS,
        poll_seconds=1.0,
    )
    try:
        print(READY, flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        while await worker.run_once():
            pass
    finally:
        await engine.dispose()
    print(json.dumps({"runs": action.runs}), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--skip-postgres", action="store_true", help="only the SQLite run")
    parser.add_argument("--worker-for", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker_for:
        asyncio.run(_serve_worker(options.worker_for))
    else:
        sys.exit(asyncio.run(main(options.plans, options.steps, options.skip_postgres)))
