"""Time to build one App Home tab (every query of bot/home_views.py, then blocks/home.py) in a
workspace with 10,000 plans and 1,000 schedules. Target: p99 <= 50 ms on SQLite.

The workspace: plans from 25 people over a month, 10 % awaiting approval, 4 % running with an
execution half-way through 4 steps, the rest finished; each plan has 4 steps; a few hundred
approvals; 1,000 schedules (a tenth paused) with 3 runs each; 300 runbooks with alert links, 100
playbooks and 2,000 notes; two freezes; and a second workspace of the same size whose rows the
queries must step over. The tab is built for an approver, at page 1 and at page 4 of every section.

Run: python bench/home_render.py [--database-url URL] [--count N]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from blocks.home import home_view
from bot import home_views
from bot.db.engine import SessionFactory, create_engine, create_session_factory
from bot.db.home_models import OperatorNote, Playbook, Runbook, RunbookAlert, Schedule, ScheduleRun
from bot.db.migrate import upgrade_to_head
from bot.db.models import Approval, ChangeFreeze, Execution, Plan, PlanStep, StepRun
from bot.policy import Policy
from bot.policy_engine import EnvironmentConfig, GuardedPolicy, MaintenanceWindow

TEAMS = ("T0123ABCDEF", "T0999OTHER9")
PLANS, SCHEDULES, RUNBOOKS, PLAYBOOKS, NOTES = 10_000, 1_000, 300, 100, 2_000
STEPS_PER_PLAN = 4
PEOPLE = [f"U{n:010d}" for n in range(25)]
VIEWER = PEOPLE[3]
NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
POLICIES = Path(__file__).resolve().parents[1] / "policies"
_BATCH = 2_000


def _plan_status(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.10:
        return "awaiting_approval"
    if roll < 0.14:
        return "running"
    if roll < 0.16:
        return "blocked"
    return rng.choice(
        ["succeeded", "succeeded", "succeeded", "failed", "rolled_back", "rejected", "cancelled"]
    )


async def populate(sessions: SessionFactory) -> None:
    rng = random.Random(15)
    rows: dict[Any, list[dict[str, Any]]] = {
        table: [] for table in (Plan, PlanStep, Approval, Execution, StepRun)
    }
    plan_id = execution_id = 0
    for team in TEAMS:
        for n in range(PLANS):
            plan_id += 1
            status = _plan_status(rng)
            created = NOW - timedelta(minutes=PLANS - n)
            rows[Plan].append(
                {
                    "id": plan_id,
                    "team_id": team,
                    "source_key": f"bench-{plan_id}",
                    "requester_id": rng.choice(PEOPLE),
                    "channel_id": "C0123OPSCHN",
                    "intent": "scale checkout to 5 in shop",
                    "summary": f"scale checkout to {n % 9 + 1} (shop)",
                    "target": {
                        "environment": "prod",
                        "namespace": "shop",
                        "name": "checkout",
                        "kind": "Deployment",
                    },
                    "risk": {
                        "level": "medium",
                        "blast_radius": "namespace",
                        "targets": ["deployment/shop/checkout"],
                    },
                    "decision": {"allow": True, "required_approvals": 1, "reasons": []},
                    "rollback": "scale back",
                    "plan_hash": f"{plan_id:064d}",
                    "status": status,
                    "status_reason": "",
                    "status_actor_id": "",
                    "created_at": created,
                    "updated_at": created,
                    "finished_at": None,
                }
            )
            for position in range(STEPS_PER_PLAN):
                rows[PlanStep].append(
                    {
                        "plan_id": plan_id,
                        "position": position,
                        "stage": "act" if position < 2 else "verify",
                        "action": "kubernetes.scale_deployment",
                        "args": {"namespace": "shop", "name": "checkout", "replicas": 5},
                        "description": "Scale checkout",
                        "rerun_on_rollback": False,
                    }
                )
            if status == "awaiting_approval" and rng.random() < 0.3:
                rows[Approval].append(
                    {
                        "team_id": team,
                        "plan_id": plan_id,
                        "user_id": rng.choice([VIEWER, PEOPLE[5]]),
                        "decision": "approve",
                        "plan_hash": f"{plan_id:064d}",
                        "created_at": created,
                    }
                )
            if status in ("running", "succeeded"):
                execution_id += 1
                rows[Execution].append(
                    {
                        "id": execution_id,
                        "team_id": team,
                        "plan_id": plan_id,
                        "status": status,
                        "attempts": 1,
                        "cancel_requested": False,
                        "error": "",
                        "created_at": created,
                    }
                )
                for position in range(2 if status == "running" else STEPS_PER_PLAN):
                    rows[StepRun].append(
                        {
                            "execution_id": execution_id,
                            "stage": "act" if position < 2 else "verify",
                            "position": position,
                            "action": "kubernetes.scale_deployment",
                            "args": {},
                            "status": "succeeded",
                            "output_summary": "",
                            "output": {},
                            "error": "",
                        }
                    )
    await _insert(sessions, rows)
    await _insert(sessions, _library(rng))


def _library(rng: random.Random) -> dict[Any, list[dict[str, Any]]]:
    rows: dict[Any, list[dict[str, Any]]] = {
        table: []
        for table in (Schedule, ScheduleRun, Runbook, RunbookAlert, Playbook, OperatorNote, ChangeFreeze)
    }
    schedule_id = runbook_id = 0
    for team in TEAMS:
        for n in range(SCHEDULES):
            schedule_id += 1
            paused = n % 10 == 0
            rows[Schedule].append(
                {
                    "id": schedule_id,
                    "team_id": team,
                    "cron": f"{n % 60} {n % 24} * * *",
                    "timezone": "Europe/Berlin",
                    "request": f"pods of service-{n} in shop",
                    "channel_id": "C0123OPSCHN",
                    "created_by": rng.choice(PEOPLE),
                    "enabled": not paused,
                    "next_run_at": None if paused else NOW + timedelta(minutes=rng.randrange(1, 60 * 24 * 7)),
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            rows[ScheduleRun] += [
                {
                    "team_id": team,
                    "schedule_id": schedule_id,
                    "due_at": NOW - timedelta(days=day + 1),
                    "kind": "cron",
                    "state": "planned",
                    "missed": 0,
                    "plan_id": None,
                    "detail": "",
                    "actor_id": PEOPLE[0],
                    "claimed_by": "bench",
                    "created_at": NOW,
                }
                for day in range(3)
            ]
        for n in range(RUNBOOKS):
            runbook_id += 1
            service = f"service-{n // 3}"
            rows[Runbook].append(
                {
                    "id": runbook_id,
                    "team_id": team,
                    "service": service,
                    "title": f"Runbook {n}",
                    "body": "1. Look\n2. Restart",
                    "workflow_name": "incident_remediation",
                    "workflow_inputs": {"remediation": "restart", "service": service},
                    "source": "",
                    "version": "v1",
                    "updated_by": PEOPLE[0],
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            rows[RunbookAlert].append(
                {"team_id": team, "service": service, "alertname": f"Alert{n}", "runbook_id": runbook_id}
            )
        rows[Playbook] += [
            {
                "team_id": team,
                "name": f"playbook-{n}",
                "spec": {
                    "description": "Restart a service",
                    "inputs": {"service": None},
                    "target": {"service": "{service}", "namespace": "shop"},
                    "steps": [{"action": "kubernetes.rollout_restart", "args": {}, "description": "Restart"}],
                },
                "source": "",
                "version": "v1",
                "updated_by": PEOPLE[0],
                "created_at": NOW,
                "updated_at": NOW,
            }
            for n in range(PLAYBOOKS)
        ]
        rows[OperatorNote] += [
            {
                "team_id": team,
                "service": f"service-{n % 100}",
                "text": "never scale below 3 in prod",
                "author_id": rng.choice(PEOPLE),
                "source": "",
                "created_at": NOW,
            }
            for n in range(NOTES)
        ]
        rows[ChangeFreeze] += [
            {
                "team_id": team,
                "environment": environment,
                "until": NOW + timedelta(days=2),
                "reason": "release",
                "created_by": PEOPLE[0],
                "created_at": NOW,
            }
            for environment in ("prod", "staging")
        ]
    return rows


async def _insert(sessions: SessionFactory, rows: dict[Any, list[dict[str, Any]]]) -> None:
    async with sessions.begin() as session:
        for table, values in rows.items():
            for start in range(0, len(values), _BATCH):
                await session.execute(insert(table), values[start : start + _BATCH])


async def build(sessions: SessionFactory, policy: Policy, pages: dict[str, int]) -> dict[str, Any]:
    async with sessions() as session:
        view = await home_views.load(
            session, team_id=TEAMS[0], user_id=VIEWER, policy=policy, pages=pages, now=NOW
        )
    return home_view(view)


async def main(database_url: str | None, count: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = database_url or f"sqlite+aiosqlite:///{Path(directory) / 'home.db'}"
        engine = create_engine(url)
        await upgrade_to_head(engine)
        sessions = create_session_factory(engine)
        started = time.perf_counter()
        await populate(sessions)
        print(f"populated {url.split(':')[0]} in {time.perf_counter() - started:.1f} s")
        policy = Policy(
            engine=GuardedPolicy(POLICIES),
            environments={
                "prod": EnvironmentConfig(
                    production=True,
                    maintenance_windows=[
                        MaintenanceWindow(start="22:00", end="02:00", timezone="Europe/Berlin")
                    ],
                )
            },
            roles={VIEWER: ["operator", "approver"]},
        )
        for label, pages in (("page 1", {}), ("page 4", dict.fromkeys(home_views.SECTIONS, 3))):
            view = await build(sessions, policy, pages)
            for _ in range(5):
                await build(sessions, policy, pages)
            timings = []
            for _ in range(count):
                began = time.perf_counter()
                await build(sessions, policy, pages)
                timings.append((time.perf_counter() - began) * 1000)
            timings.sort()
            p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
            print(
                f"{label}: {len(view['blocks'])} blocks; build p50 {statistics.median(timings):.1f} ms, "
                f"p99 {p99:.1f} ms, max {timings[-1]:.1f} ms over {count} builds (target p99 <= 50 ms)"
            )
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", help="a migrated-on-start database; default: a temporary SQLite file"
    )
    parser.add_argument("--count", type=int, default=300)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.database_url, arguments.count))
