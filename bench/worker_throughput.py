"""Worker throughput: no-op steps per second with 1 and 2 worker processes on PostgreSQL, 1 on SQLite,
and what the database does per step.

For each configuration a fresh database gets N queued plans of K no-op act steps (bench/_support.py),
then worker processes start, each a real `Worker` over a registry holding only the no-op actions, and
all are released at once; each drains the queue as `carapulse worker` does. The clock runs from that
release until the last worker found no more work. The action returns at once, so the time is what
the worker costs per step: its writes, audit events, lease and cancel checks. Afterwards every step
must have run exactly once: the workers report each run of the action, and the database must show
every execution succeeded on its first attempt.

Each worker process counts, on its engine and on asyncpg's connections, the SQL statements it sent
(transaction control left out), the transactions the server ran for them (on PostgreSQL a
statement outside BEGIN ... COMMIT autocommits and is one) and its connection checkouts from the
pool (each pings the server first); the figures are per step, with the claims and ends of the
executions shared out over their steps.

The no-op is a read-only step, and on PostgreSQL the worker commits a claim and the records of a
read-only step without waiting for the disk (bot/worker.py says why that is safe); the "write steps"
configurations run the same no-op declared with write effect, whose records wait, as every real
change's do. Each PostgreSQL figure also gives the WAL flushes per step, read from the server's
pg_stat_wal (the whole server's: other databases' commits count too).

The plain configurations leave Slack out (a silent observer). The "with cards" one gives each
worker the real Notifier, on an engine of its own so that its reads are counted apart, editing
cards posted beforehand on the fake Slack from bot/playground: card renders read the database once per
card per update interval, not per step, so they are reported per plan. Its throughput is lower
also because the fake Slack, which checks every call against the Web API spec and the Block Kit
limits, runs on the same CPUs.

The machine is shared and its load changes from run to run: each configuration runs several times
(--runs) and every figure is printed.

Usage: python bench/worker_throughput.py [--plans 200] [--steps 5] [--runs 3] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
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
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry

from bench._support import CHANNEL, TEAM, NoopAction, NoopWriteAction, queue_plans
from bot.db.engine import create_engine, create_session_factory, is_postgres
from bot.db.migrate import upgrade_to_head
from bot.db.models import Execution, StepRun
from bot.domain import ExecutionStatus, StepStage, StepState
from bot.notifier import Notifier
from bot.playground.slack.web_api import DEFAULT_TOKEN, FakeSlack
from bot.slack_clients import SingleWorkspace
from bot.tasks import TaskSupervisor
from bot.worker import Worker
from tests.databases import throwaway_database
from tools.common.registry import Registry

READY = "ready"
GO = b"go\n"
LEASE_SECONDS = 30.0
CARD_INTERVAL = 1.0


@dataclass(frozen=True)
class Configuration:
    database: str
    workers: int
    cards: bool = False
    writes: bool = False

    @property
    def label(self) -> str:
        workers = f"{self.workers} worker{'s' if self.workers > 1 else ''}"
        extras = [label for label, on in (("with cards", self.cards), ("write steps", self.writes)) if on]
        return f"{self.database:10s} {', '.join([workers, *extras])}"

    @property
    def action(self) -> str:
        return NoopWriteAction.name if self.writes else NoopAction.name


@dataclass(frozen=True)
class Outcome:
    seconds: float
    runs_per_worker: list[int]
    worker_counts: Counter[str]
    notifier_counts: Counter[str]
    wal_flushes: int | None
    problems: list[str]


CONFIGURATIONS = (
    Configuration("PostgreSQL", 1),
    Configuration("PostgreSQL", 2),
    Configuration("SQLite", 1),
    Configuration("PostgreSQL", 1, cards=True),
    Configuration("PostgreSQL", 1, writes=True),
    Configuration("PostgreSQL", 2, writes=True),
)


async def main(plans: int, steps: int, runs: int, skip_postgres: bool) -> int:
    results: dict[Configuration, list[Outcome]] = {}
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        for configuration in CONFIGURATIONS:
            if skip_postgres and configuration.database == "PostgreSQL":
                continue
            for n in range(runs):
                async with AsyncExitStack() as stack:
                    url = await _database(stack, configuration, workdir / f"run{n}.db")
                    if url is None:
                        break
                    outcome = await _run(configuration, url, plans, steps, stack)
                    results.setdefault(configuration, []).append(outcome)
    print(
        f"worker throughput, {plans} plans x {steps} no-op act steps, {runs} runs each, "
        f"{os.cpu_count()} CPUs shared with other work (figures vary with its load)"
    )
    for configuration, outcomes in results.items():
        _report(configuration, outcomes, plans, steps)
    return 1 if any(o.problems for outcomes in results.values() for o in outcomes) else 0


async def _database(stack: AsyncExitStack, configuration: Configuration, sqlite_file: Path) -> str | None:
    """A fresh database, or None (after saying why) when PostgreSQL is unreachable."""
    if configuration.database == "SQLite":
        return f"sqlite+aiosqlite:///{sqlite_file}"
    try:
        return await stack.enter_async_context(throwaway_database("postgres", sqlite_file.parent))
    except (OSError, asyncpg.PostgresError, pytest.skip.Exception) as exc:
        print(f"PostgreSQL runs skipped: {_one_line(exc)} (pass --skip-postgres to leave them out)")
        return None


async def _run(
    configuration: Configuration, url: str, plans: int, steps: int, stack: AsyncExitStack
) -> Outcome:
    engine = create_engine(url)
    try:
        await upgrade_to_head(engine)
        plan_ids = await queue_plans(
            create_session_factory(engine), count=plans, steps=steps, action=configuration.action
        )
        slack_url = None
        if configuration.cards:
            slack = await stack.enter_async_context(FakeSlack())
            await _post_cards(engine, slack, plan_ids)
            slack_url = slack.api_url
        flushed_before = await _wal_flushes(engine)
        seconds, reports = await _run_workers(url, configuration.workers, slack_url)
        flushed_after = await _wal_flushes(engine)
        runs = [[(plan, step) for plan, step in report["runs"]] for report in reports]
        problems = _check_runs(runs, plans, steps) + await _check_database(engine, plans, steps)
    finally:
        await engine.dispose()
    return Outcome(
        seconds=seconds,
        runs_per_worker=[len(r) for r in runs],
        worker_counts=sum((Counter(report["worker"]) for report in reports), Counter()),
        notifier_counts=sum((Counter(report["notifier"]) for report in reports), Counter()),
        wal_flushes=None if flushed_before is None else flushed_after - flushed_before,
        problems=problems,
    )


async def _wal_flushes(engine: AsyncEngine) -> int | None:
    """The times the PostgreSQL server has flushed its WAL to disk so far (the whole server's, so a
    quiet machine is assumed); None on SQLite. Read once the workers have exited, whose statistics
    PostgreSQL takes in at their disconnection."""
    if not is_postgres(engine):
        return None
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT wal_sync FROM pg_stat_wal"))).scalar_one()


async def _post_cards(engine: AsyncEngine, slack: FakeSlack, plan_ids: list[int]) -> None:
    supervisor = TaskSupervisor()
    notifier = Notifier(
        clients=SingleWorkspace(AsyncWebClient(token=DEFAULT_TOKEN, base_url=slack.api_url)),
        sessions=create_session_factory(engine),
        supervisor=supervisor,
    )
    for plan_id in plan_ids:
        await notifier.post_card(team_id=TEAM, plan_id=plan_id, channel_id=CHANNEL, thread_ts=None)
    await supervisor.drain()


async def _run_workers(url: str, workers: int, slack_url: str | None) -> tuple[float, list[dict]]:
    """Start the worker processes, release them together once all are ready, and wait for each to
    report; the seconds from release until the last worker ran out of work, and the reports."""
    argv = [sys.executable, __file__, "--worker-for", url, *(["--slack-url", slack_url] if slack_url else [])]
    children = [
        await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(workers)
    ]
    try:
        for child in children:
            await _expect_line(child, READY)
        started = time.time()
        for child in children:
            assert child.stdin is not None
            child.stdin.write(GO)
        reports = [
            json.loads(line) for line in await asyncio.gather(*(_expect_line(c, "{") for c in children))
        ]
    finally:
        for child in children:
            if child.returncode is None:
                child.kill()
            await child.wait()
    # Each worker says when it ran out of work: with cards it reports only after its last card
    # edits, which are not worker time.
    return max(report["done_at"] for report in reports) - started, reports


async def _expect_line(child: asyncio.subprocess.Process, expected: str) -> str:
    assert child.stdout is not None
    line = (await child.stdout.readline()).decode().strip()
    if not line.startswith(expected):
        raise RuntimeError(
            f"worker process {child.pid} said {line!r} instead of {expected!r} (see its stderr)"
        )
    return line


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


def _report(configuration: Configuration, outcomes: list[Outcome], plans: int, steps: int) -> None:
    total = plans * steps
    rates = [total / outcome.seconds for outcome in outcomes]
    print(
        f"  {configuration.label}: {' / '.join(f'{rate:.0f}' for rate in rates)} steps/s "
        f"(median {statistics.median(rates):.0f}; split "
        + ", ".join(" + ".join(str(n) for n in o.runs_per_worker) for o in outcomes)
        + ")"
    )
    counts = sum((outcome.worker_counts for outcome in outcomes), Counter())
    executed = total * len(outcomes)
    print(
        f"      per step: {counts['statements'] / executed:.2f} statements, "
        f"{counts['transactions'] / executed:.2f} transactions, "
        f"{counts['checkouts'] / executed:.3f} pool checkouts"
        + (
            f", {sum(o.wal_flushes for o in outcomes) / executed:.2f} WAL flushes (whole server)"
            if all(o.wal_flushes is not None for o in outcomes)
            else ""
        )
    )
    if configuration.cards:
        reads = sum((outcome.notifier_counts for outcome in outcomes), Counter())
        plans_run = plans * len(outcomes)
        print(
            f"      notifier per plan ({CARD_INTERVAL:g} s card interval): "
            f"{reads['sessions'] / plans_run:.2f} reads, "
            f"{reads['statements'] / plans_run:.2f} statements (the fake Slack shares the CPUs)"
        )
    problems = [problem for outcome in outcomes for problem in outcome.problems]
    print(
        "      every step ran exactly once"
        if not problems
        else "      NOT exactly once: " + "; ".join(problems)
    )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class _SilentObserver:
    """The worker's observer when Slack is not part of the measurement."""

    def plan_changed(self, team_id: str, plan_id: int) -> None:
        pass

    def plan_finished(self, team_id: str, plan_id: int) -> None:
        pass


def _counted(engine: AsyncEngine) -> Counter[str]:
    """Statements and transactions as the server sees them, and pool checkouts. The worker sends
    its audited writes on PostgreSQL to asyncpg directly (bot/audited_writes.py), past
    SQLAlchemy's events, so asyncpg's query logger counts those."""
    counts: Counter[str] = Counter()

    def statement(conn: Connection, _cursor: object, sql: str, *_: object) -> None:
        if sql.lstrip().upper().startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE (bot/db/engine.py)
            counts["transactions"] += 1
            return
        counts["statements"] += 1
        driver = conn.connection.driver_connection
        if hasattr(driver, "is_in_transaction") and not driver.is_in_transaction():
            counts["transactions"] += 1  # PostgreSQL autocommitted it

    def connected(_dbapi_connection: object, record: ConnectionPoolEntry) -> None:
        driver = record.driver_connection
        if hasattr(driver, "add_query_logger"):
            driver.add_query_logger(lambda logged: _count_driver_query(counts, logged.query))

    event.listen(engine.sync_engine, "after_cursor_execute", statement)
    # The notifier's reads: one SQLAlchemy transaction (a session) each.
    event.listen(engine.sync_engine, "begin", lambda _conn: counts.update(["sessions"]))
    event.listen(engine.sync_engine.pool, "connect", connected)
    event.listen(engine.sync_engine.pool, "checkout", lambda *_: counts.update(["checkouts"]))
    return counts


def _count_driver_query(counts: Counter[str], sql: str) -> None:
    """What asyncpg ran itself: the BEGIN and COMMIT of SQLAlchemy's transactions, and statements
    outside any transaction, each its own."""
    word = sql.strip().rstrip(";").split(maxsplit=1)[0].upper() if sql.strip(" ;") else ""
    if word == "BEGIN":
        counts["transactions"] += 1
    elif word not in ("", "COMMIT", "ROLLBACK"):  # "" is the pool's ping
        counts["statements"] += 1
        counts["transactions"] += 1


async def _serve_worker(url: str, slack_url: str | None) -> None:
    """One worker process: say ready, wait for the go line, drain the queue (all of it was queued
    before the release), then print the (plan, step) runs and the counts as JSON."""
    engine = create_engine(url)
    worker_counts = _counted(engine)
    notifier_engine = create_engine(url)
    notifier_counts = _counted(notifier_engine)
    supervisor = TaskSupervisor()
    observer = (
        Notifier(
            clients=SingleWorkspace(AsyncWebClient(token=DEFAULT_TOKEN, base_url=slack_url)),
            sessions=create_session_factory(notifier_engine),
            supervisor=supervisor,
            min_interval=CARD_INTERVAL,
        )
        if slack_url
        else _SilentObserver()
    )
    actions = [NoopAction(), NoopWriteAction()]
    worker = Worker(
        sessions=create_session_factory(engine),
        registry=Registry(actions),
        observer=observer,
        lease_seconds=LEASE_SECONDS,
        poll_seconds=1.0,
    )
    try:
        print(READY, flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        await worker.drain()
        done_at = time.time()
        await supervisor.drain()
    finally:
        await supervisor.aclose()
        await engine.dispose()
        await notifier_engine.dispose()
    runs = [run for action in actions for run in action.runs]
    report = {"runs": runs, "done_at": done_at, "worker": worker_counts, "notifier": notifier_counts}
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3, help="runs of each configuration")
    parser.add_argument("--skip-postgres", action="store_true", help="only the SQLite run")
    parser.add_argument("--worker-for", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--slack-url", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker_for:
        asyncio.run(_serve_worker(options.worker_for, options.slack_url))
    else:
        sys.exit(asyncio.run(main(options.plans, options.steps, options.runs, options.skip_postgres)))
