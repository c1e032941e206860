"""Scale-out: two `carapulse serve` processes in HTTP mode on one PostgreSQL, as behind a load balancer.
Requests and approvals go to both in turn; every step runs exactly once, every execution is claimed
once, and every card ends showing its final state in its last edit."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path

from sqlalchemy import select

from blocks import ids
from bot.db.engine import create_engine, create_session_factory
from bot.db.models import AuditEvent, Execution
from bot.playground.kubernetes.server import FakeKubernetes
from bot.playground.slack.driver import SlackDriver
from bot.playground.slack.state import ALICE, BOB, OPS_CHANNEL
from bot.playground.slack.web_api import FakeSlack
from tests.databases import throwaway_database
from tests.harness import SIGNING_SECRET, bot_environment
from tests.processes import child_process, free_port

CARAPULSE = [sys.executable, "-m", "bot"]
SERVICES = [f"svc{n}" for n in range(8)]


async def test_two_replicas_share_the_work_without_doing_any_twice_and_cards_converge(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeKubernetes, Path]
) -> None:
    slack, kube, kubeconfig = fakes
    for service in SERVICES:
        kube.add_deployment("shop", service, replicas=1)

    async with throwaway_database("postgres", tmp_path) as database_url:
        async with AsyncExitStack() as stack:
            cards = await _run_the_story(stack, database_url, slack, kubeconfig)
        # Both replicas have stopped (SIGTERM, exit 0), so every card edit either made has landed.
        for ts in cards.values():
            last_edit = [c for c in slack.calls_to("chat.update") if c.ok and c.args["ts"] == ts][-1]
            assert "Succeeded" in str(last_edit.args["blocks"])
        engine = create_engine(database_url)
        try:
            async with create_session_factory(engine)() as session:
                runs = list(await session.scalars(select(Execution)))
                started = Counter(
                    await session.scalars(
                        select(AuditEvent.plan_id).where(AuditEvent.kind == "execution.started")
                    )
                )
        finally:
            await engine.dispose()
    assert len({run.lease_owner for run in runs}) == 2  # both replicas ran executions
    assert sorted((run.status, run.attempts) for run in runs) == [("succeeded", 1)] * len(SERVICES)
    assert sorted(started) == sorted(cards) and set(started.values()) == {1}
    for service in SERVICES:
        patches = [r for r in kube.requests if r.method == "PATCH" and r.path.endswith(f"/{service}/scale")]
        assert len(patches) == 1, service
        assert kube.deployment("shop", service)["spec"]["replicas"] == 3


async def _run_the_story(
    stack: AsyncExitStack, database_url: str, slack: FakeSlack, kubeconfig: Path
) -> dict[int, str]:
    """Start both replicas; each request goes to one, its approval to the other, all at once; the
    plans' cards (plan id → ts) once every one shows Succeeded."""
    drivers = []
    for _ in range(2):
        environment = {
            **os.environ,
            **bot_environment(database_url=database_url, slack=slack, kubeconfig=kubeconfig),
            "PORT": str(port := free_port()),
        }
        await stack.enter_async_context(
            child_process([*CARAPULSE, "serve"], environment=environment, ready=b"listening on port")
        )
        drivers.append(SlackDriver(f"http://127.0.0.1:{port}", SIGNING_SECRET, slack))

    for n, service in enumerate(SERVICES):
        answer = await drivers[n % 2].slash_command(f"scale {service} to 3 in shop", user=ALICE)
        assert answer.status == 200
    cards = await slack.wait_until(lambda: _cards(slack) if len(_cards(slack)) == len(SERVICES) else None)
    approvals = [
        drivers[(n + 1) % 2].block_action(ids.PLAN_APPROVE, str(plan_id), user=BOB, message_ts=ts)
        for n, (plan_id, ts) in enumerate(sorted(cards.items()))
    ]
    assert {answer.status for answer in await asyncio.gather(*approvals)} == {200}
    await slack.wait_until(lambda: all("Succeeded" in _shown(slack, ts) for ts in cards.values()), timeout=90)
    return cards


def _cards(slack: FakeSlack) -> dict[int, str]:
    """Plan id → ts of each plan card in the channel."""
    found = {}
    for ts, message in slack.messages.get(OPS_CHANNEL, {}).items():
        text = message.get("text", "")
        if text.startswith("Plan #") and message.get("thread_ts", ts) == ts:
            found[int(text.removeprefix("Plan #").split(":")[0])] = ts
    return found


def _shown(slack: FakeSlack, ts: str) -> str:
    return str(slack.messages[OPS_CHANNEL][ts].get("blocks"))
