"""Through Slack, against a real Prometheus: a plan whose rollout succeeds but whose service check
fails is rolled back, and one whose check holds succeeds (VERIFY_CHECKS)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from blocks import ids
from bot.playground.slack.state import BOB
from tests.fakes.prometheus_stack import CHECKOUT_ERROR_RATIO, RunningStack
from tests.harness import RunningBot, running_bot


def error_ratio_check(threshold: float) -> str:
    return json.dumps(
        [
            {
                "label": "checkout error ratio",
                "expr": 'max(checkout_error_ratio{{job="{name}"}})',
                "comparator": "<",
                "threshold": threshold,
                "window_seconds": 1,
                "interval_seconds": 0.5,
                "environments": ["prod"],
            }
        ]
    )


CheckedBot = Callable[[float], AbstractAsyncContextManager[RunningBot]]


@pytest.fixture
def checked_bot(database_url: str, tmp_path: Path, stack: RunningStack) -> CheckedBot:
    """A bot whose plans end with the error-ratio check at `threshold`, against the real Prometheus."""

    @asynccontextmanager
    async def start(threshold: float) -> AsyncIterator[RunningBot]:
        overrides = {"PROMETHEUS_URL": stack.prometheus_url, "VERIFY_CHECKS": error_ratio_check(threshold)}
        async with running_bot(database_url=database_url, tmp_path=tmp_path, overrides=overrides) as bot:
            yield bot

    return start


async def scale_and_approve(bot: RunningBot) -> str:
    await bot.driver.slash_command("scale checkout to 5 in shop")
    rendered = await bot.card_text(1, "Awaiting approval")
    assert "prometheus.query_threshold" in rendered
    assert 'max(checkout_error_ratio{job=\\\\"checkout\\\\"})' in rendered
    await bot.driver.block_action(ids.PLAN_APPROVE, "1", user=BOB)
    return rendered


async def test_a_failing_service_check_rolls_the_change_back(checked_bot: CheckedBot) -> None:
    async with checked_bot(0.01) as bot:
        await scale_and_approve(bot)

        rendered = await bot.card_text(1, "Rolled back", timeout=30)

        assert f"checkout error ratio was {CHECKOUT_ERROR_RATIO}" in rendered
        assert "needs &lt; 0.01" in rendered
        assert bot.kube.deployment("shop", "checkout")["spec"]["replicas"] == 2


async def test_a_service_check_that_holds_lets_the_plan_succeed(checked_bot: CheckedBot) -> None:
    async with checked_bot(0.05) as bot:
        await scale_and_approve(bot)

        await bot.card_text(1, "Succeeded", timeout=30)

        assert bot.kube.deployment("shop", "checkout")["spec"]["replicas"] == 5
