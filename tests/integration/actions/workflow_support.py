"""What the workflow scenario tests share: starting a bot with settings and override files, filling
the start form, and approving a plan as someone other than its requester."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from blocks import ids
from bot.playground.slack.state import ALICE, BOB
from tests.harness import RunningBot, running_bot

BotWith = Callable[..., AbstractAsyncContextManager[RunningBot]]


def bot_starter(database_url: str, tmp_path: Path) -> BotWith:
    """Starts a bot with extra settings and override files ({"prod/x.yaml": text})."""

    @asynccontextmanager
    async def start(
        overrides: dict[str, str] | None = None, files: dict[str, str] | None = None
    ) -> AsyncIterator[RunningBot]:
        settings = dict(overrides or {})
        if files:
            directory = tmp_path / "workflows"
            for name, text in files.items():
                (directory / name).parent.mkdir(parents=True, exist_ok=True)
                (directory / name).write_text(text, encoding="utf-8")
            settings["WORKFLOWS_DIR"] = str(directory)
        async with running_bot(database_url=database_url, tmp_path=tmp_path, overrides=settings) as bot:
            yield bot

    return start


# An override that makes a workflow's `check` step hold for one second, not a minute.
FAST_CHECK = "version: 2-fast\nsteps:\n  check:\n    args: {window_seconds: 1, interval_seconds: 0.5}\n"
# 0.031 in the real Prometheus of tests/fakes/prometheus_stack.py.
ERROR_RATIO = 'max(checkout_error_ratio{job="checkout"})'


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


async def approved_run(bot: RunningBot, final: str, *, plan_id: int = 1) -> str:
    """Approve the plan as Bob (the requester is Alice) and wait for its card to say `final`."""
    await bot.card_text(plan_id, "Awaiting approval")
    await bot.driver.block_action(ids.PLAN_APPROVE, str(plan_id), user=BOB)
    return await bot.card_text(plan_id, final, timeout=30)


def prefilled(view: dict[str, Any], **changes: str | None) -> dict[str, Any]:
    """The state Slack submits for a form as it opened (each input's initial value), with `changes`
    typed over it; an input without a value is left out, as Slack leaves it."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element = block["element"]
        typed = changes.get(block["block_id"], element.get("initial_value"))
        if element["type"] == "static_select":
            chosen = changes.get(block["block_id"], (element.get("initial_option") or {}).get("value"))
            if chosen is not None:
                values[block["block_id"]] = choice(chosen)
        elif typed is not None:
            values[block["block_id"]] = {ids.WORKFLOW_INPUT: {"type": element["type"], "value": typed}}
    return values


async def approve_typing(bot: RunningBot, plan_id: int = 1, *, user: str = BOB, word: str = "prod") -> Any:
    """Approve a plan that asks for a typed confirmation: click Approve as the card draws it, then
    type `word` in the dialog it opens. The dialog's answer."""
    opened = len(bot.slack.calls_to("views.open"))
    card = bot.card(plan_id) or {}
    [value] = [
        element["value"]
        for block in card.get("blocks", [])
        for element in block.get("elements", [])
        if element.get("action_id") == ids.PLAN_APPROVE
    ]
    await bot.driver.block_action(ids.PLAN_APPROVE, value, user=user)
    await bot.slack.wait_until(lambda: [c for c in bot.slack.calls_to("views.open")[opened:] if c.ok])
    typed = {ids.CONFIRM_BLOCK: {ids.CONFIRM_INPUT: {"type": "plain_text_input", "value": word}}}
    return await bot.driver.view_submission(ids.PLAN_CONFIRM_MODAL, typed, user=user)
