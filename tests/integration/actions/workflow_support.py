"""Helpers shared by the workflow tests that drive Carapulse through Slack: form values as a modal
submits them, opening and submitting the start form, and approving plan #1."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from blocks import ids
from tests.fakes.slack_state import ALICE, BOB
from tests.harness import RunningBot

# The `bot_with` fixture (conftest.py): a bot started with extra settings and override files.
BotWith = Callable[..., AbstractAsyncContextManager[RunningBot]]


def field(value: str | None) -> dict[str, Any]:
    return {ids.WORKFLOW_INPUT: {"type": "plain_text_input", "value": value}}


def choice(value: str) -> dict[str, Any]:
    return {ids.WORKFLOW_INPUT: {"type": "static_select", "selected_option": {"value": value}}}


def number(value: str) -> dict[str, Any]:
    return {ids.WORKFLOW_INPUT: {"type": "number_input", "value": value}}


async def open_form(bot: RunningBot, name: str = "scale_service") -> dict[str, Any]:
    await bot.driver.slash_command(f"workflow start {name}")
    opened = await bot.slack.wait_for(lambda c: c.method == "views.open" and c.ok)
    return opened.args["view"] if isinstance(opened.args["view"], dict) else json.loads(opened.args["view"])


async def submit(bot: RunningBot, values: dict[str, Any], *, user: str = ALICE) -> Any:
    return await bot.driver.view_submission(ids.WORKFLOW_START_MODAL, values, user=user)


async def approved_run(bot: RunningBot, final: str, plan_id: int = 1) -> str:
    await bot.card_text(plan_id, "Awaiting approval")
    await bot.driver.block_action(ids.PLAN_APPROVE, str(plan_id), user=BOB)
    return await bot.card_text(plan_id, final, timeout=30)
