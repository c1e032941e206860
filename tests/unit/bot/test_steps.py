"""run_action: every outcome, good or bad, is redacted before anyone stores or shows it."""

from __future__ import annotations

from typing import ClassVar

from bot.steps import run_action
from tools.common.base import Action, ActionArgs, ActionResult, Effect, ToolError
from tools.common.redaction import Redactor
from tools.common.registry import Registry

TOKEN = "hvs.CAESIJabcdefghijklmnopqrstuv"


class LeakArgs(ActionArgs):
    fail: bool = False


class Leaky(Action[LeakArgs]):
    """Echoes the service's own token, as a misbehaving CLI or API error might."""

    name: ClassVar[str] = "leaky.get"
    description: ClassVar[str] = "echo a secret"
    args_model = LeakArgs
    effect = Effect.READ

    async def run(self, args: LeakArgs) -> ActionResult:
        if args.fail:
            raise ToolError(f"denied for token {TOKEN} (password=hunter2)")
        return ActionResult(summary=f"read with {TOKEN}", data={"password": "hunter2", "items": [TOKEN]})


REGISTRY = Registry([Leaky()], redactor=Redactor.with_secrets([TOKEN]))


async def test_a_successful_outcome_is_redacted() -> None:
    outcome = await run_action(REGISTRY, "leaky.get", {})

    assert outcome.ok
    assert outcome.summary == "read with [redacted]"
    assert outcome.data == {"password": "[redacted]", "items": ["[redacted]"]}


async def test_an_error_is_redacted() -> None:
    outcome = await run_action(REGISTRY, "leaky.get", {"fail": True})

    assert not outcome.ok
    assert outcome.error == "denied for token [redacted] (password=[redacted])"


async def test_a_dry_run_is_redacted_too() -> None:
    outcome = await run_action(REGISTRY, "leaky.get", {}, rehearse=True)

    assert TOKEN not in outcome.summary
