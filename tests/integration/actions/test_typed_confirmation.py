"""Through Slack: approving a high-risk plan in production opens a dialog that asks for the
environment's name (or the target's); a wrong word is refused inline and approves nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from blocks import ids
from bot.db.models import Approval
from bot.playground.slack.state import BOB
from tests.fakes.vault import FakeVault
from tests.harness import RunningBot
from tests.integration.actions.workflow_support import BotWith, approve_typing

CAROL = "U0123CAROL3"  # approver and admin
ROTATE = "rotate secret db/checkout and restart checkout in shop"


@pytest.fixture
async def vault() -> AsyncIterator[FakeVault]:
    async with FakeVault() as server:
        server.put_secret("db/checkout", {"user": "checkout_app", "password": "old"})
        yield server


def settings(vault: FakeVault, **more: str) -> dict[str, str]:
    return {"VAULT_ADDR": vault.url, "VAULT_TOKEN": vault.root_token, **more}


async def rotation_planned(bot: RunningBot) -> str:
    bot.slack.add_user(CAROL, "carol")
    await bot.driver.slash_command(ROTATE)
    return await bot.card_text(1, "Awaiting approval")


def typed(word: str) -> dict[str, object]:
    return {ids.CONFIRM_BLOCK: {ids.CONFIRM_INPUT: {"type": "plain_text_input", "value": word}}}


async def test_the_right_word_approves_and_a_wrong_one_is_refused_inline(
    bot_with: BotWith, vault: FakeVault
) -> None:
    async with bot_with(settings(vault)) as bot:
        card = await rotation_planned(bot)
        assert "approving asks you to type `prod`" in card
        assert "'value': '1:1:confirm'" in card

        await bot.driver.block_action(ids.PLAN_APPROVE, "1:1:confirm", user=BOB)
        opened = await bot.slack.wait_for(lambda c: c.method == "views.open" and c.ok)
        view = (
            opened.args["view"] if isinstance(opened.args["view"], dict) else json.loads(opened.args["view"])
        )
        assert view["callback_id"] == ids.PLAN_CONFIRM_MODAL
        assert "Type prod to approve" in json.dumps(view)
        wrong = await bot.driver.view_submission(ids.PLAN_CONFIRM_MODAL, typed("production"), user=BOB)
        right = await bot.driver.view_submission(ids.PLAN_CONFIRM_MODAL, typed(" prod "), user=BOB)

        assert wrong.json() == {
            "response_action": "errors",
            "errors": {ids.CONFIRM_BLOCK: "Type prod exactly to approve; nothing was approved."},
        }
        assert right.status == 200 and right.body == ""
        await bot.card_text(1, "Approvals*\\n1 of 2")
        assert await bot.count(Approval) == 1


@pytest.mark.parametrize(
    ("how", "value"),
    [("a click without the dialog", "1:1"), ("a card drawn before versions", "1")],
)
async def test_an_approval_without_the_word_is_refused(
    bot_with: BotWith, vault: FakeVault, how: str, value: str
) -> None:
    async with bot_with(settings(vault)) as bot:
        await rotation_planned(bot)

        await bot.driver.block_action(ids.PLAN_APPROVE, value, user=BOB)

        refused = await bot.slack.wait_until(lambda: bot.slack.responses)
        assert (
            "approve it with the button on its card, which asks you to type `prod`" in refused[0].body["text"]
        )
        assert await bot.count(Approval) == 0, how


async def test_the_slash_command_cannot_skip_the_word(bot_with: BotWith, vault: FakeVault) -> None:
    async with bot_with(settings(vault)) as bot:
        await rotation_planned(bot)

        await bot.driver.slash_command("approve 1", user=BOB)

        refused = await bot.slack.wait_until(lambda: bot.slack.responses)
        assert "asks you to type `prod`" in refused[0].body["text"]
        assert await bot.count(Approval) == 0


async def test_an_environment_may_ask_for_the_targets_name(bot_with: BotWith, vault: FakeVault) -> None:
    approvals = json.dumps({"prod": {"confirm_with": "target"}})
    async with bot_with(settings(vault, APPROVALS=approvals)) as bot:
        card = await rotation_planned(bot)
        assert "approving asks you to type `secret/db/checkout`" in card

        refused = await approve_typing(bot, user=BOB, word="prod")
        accepted = await approve_typing(bot, user=BOB, word="secret/db/checkout")

        assert refused.json()["response_action"] == "errors"
        assert accepted.status == 200 and accepted.body == ""
        await bot.card_text(1, "Approvals*\\n1 of 2")


async def test_a_plan_that_is_not_high_risk_needs_no_typing(bot: RunningBot) -> None:
    await bot.driver.slash_command("scale checkout to 5 in shop")
    card = await bot.card_text(1, "Awaiting approval")

    assert "approving asks you to type" not in card and "'value': '1:1'" in card
