"""Slack Web API traffic of durable execution: calls per execution, and convergence under 429s.

The real `Worker` and `Notifier` run in-process on a SQLite file against the fake Slack from
bot/playground, with the Web API client the bot builds (it waits out 429s per Retry-After). Plans of
no-op act steps (bench/_support.py) are stored with their executions queued and their cards posted
before any worker starts, so the figures split into posting the card and running the execution.

1. One plan of 10 steps at the default card update interval and at 0.2 s, with steps that return at
   once and with steps that take --hold seconds (so the run outlasts an interval); calls by method.
2. 20 concurrent executions (one worker each) in one channel while about 30 % of chat.update and
   chat.postMessage calls are answered 429 with Retry-After: 1, as an app bursting over Slack's
   Tier 3 limit sees; calls made, 429s seen, whether every card ended showing its final stored state
   with one outcome reply, and the time from the workers' start until it did.

Usage: python bench/slack_calls.py [--steps 10] [--executions 20] [--hold 0.1] [--rate-limited 0.3]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import CHANNEL, TEAM, NoopAction, queue_plans
from blocks.plan_card import plan_card
from bot import plan_views
from bot.app import slack_client
from bot.db.engine import SessionFactory, create_engine, create_session_factory
from bot.db.migrate import upgrade_to_head
from bot.notifier import Notifier
from bot.playground.slack.web_api import DEFAULT_TOKEN, FakeSlack, RecordedCall
from bot.settings import Settings, load_settings
from bot.slack_clients import SingleWorkspace
from bot.tasks import TaskSupervisor
from bot.worker import Worker
from tools.common.registry import Registry

DEFAULT_INTERVAL = float(Settings.model_fields["card_update_interval_seconds"].default)
FAST_INTERVAL = 0.2
LIMITED_METHODS = ("chat.update", "chat.postMessage")
LEASE_SECONDS = 30.0


@dataclass(frozen=True)
class Traffic:
    """The calls recorded while posting the cards and while running the executions."""

    posting: list[RecordedCall]
    execution: list[RecordedCall]
    final_cards: int
    duplicate_replies: int
    converge_seconds: float | None


async def main(options: argparse.Namespace) -> int:
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as directory:
        databases = (f"sqlite+aiosqlite:///{Path(directory) / f'run{n}.db'}" for n in itertools.count())
        print(f"Web API calls for one plan of {options.steps} no-op act steps, one worker")
        for hold in sorted({0.0, options.hold}):
            for interval in (DEFAULT_INTERVAL, FAST_INTERVAL):
                async with FakeSlack() as slack:
                    traffic = await _measure(
                        slack, next(databases), options, plans=1, interval=interval, hold=hold
                    )
                    problems += slack.violations
                steps = "steps return at once" if not hold else f"steps of {hold:g} s"
                print(f"  interval {interval:g} s, {steps}:")
                print(f"    posting the card  {_by_method(traffic.posting)}")
                print(f"    the execution     {_by_method(traffic.execution)}")
                print(f"    total {len(traffic.posting) + len(traffic.execution)}")

        print(
            f"{options.executions} concurrent executions of {options.steps} no-op act steps in one channel, "
            f"{options.rate_limited:.0%} of {' and '.join(LIMITED_METHODS)} answered 429 (Retry-After: 1)"
        )
        async with FakeSlack() as slack:
            limit = RateLimit(slack, LIMITED_METHODS, share=options.rate_limited, seed=options.seed)
            traffic = await _measure(
                slack,
                next(databases),
                options,
                plans=options.executions,
                interval=DEFAULT_INTERVAL,
                limit=limit,
            )
            problems += slack.violations
        _report_concurrent(traffic, options.executions)
    for problem in problems:
        print(f"  fake Slack refused a call: {problem}")
    return 1 if problems else 0


class RateLimit:
    """Answers about `share` of the calls to `methods` with 429 and Retry-After: 1.

    FakeSlack can queue a 429 only for the next call of a method, so after every call this decides
    (from a seeded generator) whether the following call of that method is refused.
    """

    def __init__(self, slack: FakeSlack, methods: Iterable[str], *, share: float, seed: int) -> None:
        self._slack = slack
        self._methods = frozenset(methods)
        self._share = share
        self._random = random.Random(seed)

    async def enforce(self) -> None:
        """Run until cancelled."""
        for method in self._methods:
            self._decide(method)
        seen = len(self._slack.calls)
        while True:
            await self._slack.wait_until(lambda n=seen: len(self._slack.calls) > n, timeout=3600)
            for call in self._slack.calls[seen:]:
                if call.method in self._methods:
                    self._decide(call.method)
            seen = len(self._slack.calls)

    def _decide(self, method: str) -> None:
        if self._random.random() < self._share:
            self._slack.rate_limit_next(method, retry_after=1)


async def _measure(
    slack: FakeSlack,
    url: str,
    options: argparse.Namespace,
    *,
    plans: int,
    interval: float,
    hold: float = 0.0,
    limit: RateLimit | None = None,
) -> Traffic:
    """Queue the plans and post their cards, then start one worker per plan (and the rate limit)
    and wait until Slack shows every card in its final state; the calls of each phase."""
    engine = create_engine(url)
    supervisor = TaskSupervisor()
    sessions = create_session_factory(engine)
    notifier = Notifier(
        clients=SingleWorkspace(slack_client(_settings(slack))),
        sessions=sessions,
        supervisor=supervisor,
        min_interval=interval,
    )
    try:
        await upgrade_to_head(engine)
        plan_ids = await queue_plans(sessions, count=plans, steps=options.steps, hold_seconds=hold)
        cards = [
            await notifier.post_card(team_id=TEAM, plan_id=plan_id, channel_id=CHANNEL, thread_ts=None)
            for plan_id in plan_ids
        ]
        for plan_id in plan_ids:
            await notifier.settled(TEAM, plan_id)
        posted = len(slack.calls)
        started = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            enforcing = group.create_task(limit.enforce()) if limit else None
            async with asyncio.TaskGroup() as workers:
                for _ in plan_ids:
                    workers.create_task(_work(sessions, notifier))
            finals = {card.ts: await _final_blocks(sessions, card.plan_id) for card in cards}
            converged = await _converged(slack, finals, options.time_limit)
            seconds = time.perf_counter() - started if converged else None
            # Let the last edits land before counting; a card whose edits gave up ends its pump too.
            await supervisor.drain()
            if enforcing:
                enforcing.cancel()
    finally:
        await supervisor.aclose()
        await engine.dispose()
    messages = slack.messages[CHANNEL]
    return Traffic(
        posting=slack.calls[:posted],
        execution=slack.calls[posted:],
        final_cards=sum(_is_final(messages[ts], blocks) for ts, blocks in finals.items()),
        duplicate_replies=sum(max(0, messages[ts].get("reply_count", 0) - 1) for ts in finals),
        converge_seconds=seconds,
    )


async def _work(sessions: SessionFactory, notifier: Notifier) -> None:
    """One worker, as `carapulse worker` runs it, until no queued execution is left to claim."""
    worker = Worker(
        sessions=sessions,
        registry=Registry([NoopAction()]),
        observer=notifier,
        lease_seconds=LEASE_SECONDS,
        poll_seconds=1.0,
    )
    await worker.drain()


async def _final_blocks(sessions: SessionFactory, plan_id: int) -> list[dict[str, Any]]:
    async with sessions() as session:
        return plan_card(await plan_views.load(session, team_id=TEAM, plan_id=plan_id))


async def _converged(slack: FakeSlack, finals: dict[str, list[dict[str, Any]]], time_limit: float) -> bool:
    messages = slack.messages[CHANNEL]
    try:
        await slack.wait_until(
            lambda: all(_is_final(messages[ts], blocks) for ts, blocks in finals.items()), timeout=time_limit
        )
    except TimeoutError:
        return False
    return True


def _is_final(card: dict[str, Any], blocks: list[dict[str, Any]]) -> bool:
    """The card shows the plan's final stored state and its outcome reply is in the thread."""
    return card.get("blocks") == blocks and card.get("reply_count", 0) >= 1


def _settings(slack: FakeSlack) -> Settings:
    return load_settings(slack_bot_token=DEFAULT_TOKEN, slack_api_url=slack.api_url)


def _by_method(calls: Sequence[RecordedCall]) -> str:
    counts = Counter(call.method for call in calls)
    return f"{len(calls):3d}  (" + ", ".join(f"{method} {n}" for method, n in counts.most_common()) + ")"


def _report_concurrent(traffic: Traffic, executions: int) -> None:
    limited = sum(call.status == 429 for call in traffic.execution)
    print(f"  calls made  {_by_method(traffic.execution)}; posting the cards before: {len(traffic.posting)}")
    print(f"  429s seen   {limited}")
    print(
        f"  cards in their final state with their outcome reply: {traffic.final_cards}/{executions}"
        + (f", {traffic.duplicate_replies} duplicate outcome replies" if traffic.duplicate_replies else "")
    )
    if traffic.converge_seconds is None:
        print("  did not converge within the time limit")
    else:
        print(f"  converged {traffic.converge_seconds:.2f} s after the workers started")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--executions", type=int, default=20)
    parser.add_argument("--hold", type=float, default=0.1, help="seconds each step takes in the second run")
    parser.add_argument("--rate-limited", type=float, default=0.3, help="share of calls answered 429")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds to wait for the cards")
    sys.exit(asyncio.run(main(parser.parse_args())))
