"""Through Slack: the requester edits a waiting plan, which becomes v2 of the same card with what
changed against v1; approvals of v1 are void, and a click on the v1 card is refused."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from blocks import ids
from bot.db.models import Approval, AuditEvent, PlanVersion
from bot.playground.slack.state import ALICE, BOB
from tests.harness import RunningBot
from tests.integration.actions.workflow_support import prefilled

CAROL = "U0123CAROL3"  # approver and admin
SCALE = "scale checkout to 5 in shop"


async def blocked_with_an_approval(bot: RunningBot) -> None:
    """Plan #1 waits Blocked behind a freeze, with Bob's approval of v1 counted."""
    bot.slack.add_user(CAROL, "carol")
    await bot.driver.slash_command("freeze prod 2h release freeze", user=CAROL)
    await bot.slack.wait_until(lambda: bot.slack.responses)
    await bot.driver.slash_command(SCALE)
    await bot.card_text(1, "Blocked by policy")
    await bot.driver.block_action(ids.PLAN_APPROVE, "1:1", user=BOB)
    await bot.card_text(1, "Approvals*\\n1 of 1")


async def edit_dialog(bot: RunningBot, value: str = "1:1", *, user: str = ALICE) -> dict[str, Any]:
    opened_before = len(bot.slack.calls_to("views.open"))
    await bot.driver.block_action(ids.PLAN_EDIT, value, user=user)
    opened = await bot.slack.wait_until(lambda: bot.slack.calls_to("views.open")[opened_before:])
    view = opened[0].args["view"]
    return view if isinstance(view, dict) else json.loads(view)


async def ephemeral(bot: RunningBot, words: str) -> str:
    def said() -> str | None:
        texts = [r.body.get("text", "") for r in bot.slack.responses]
        texts += [c.args.get("text", "") for c in bot.slack.calls_to("chat.postEphemeral")]
        return next((text for text in texts if words in text), None)

    return await bot.slack.wait_until(said)


async def test_editing_a_plan_makes_v2_voids_approvals_and_shows_what_changed(bot: RunningBot) -> None:
    await blocked_with_an_approval(bot)

    view = await edit_dialog(bot)
    assert view["callback_id"] == ids.PLAN_EDIT_MODAL
    assert {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"] if "element" in b}[
        "count"
    ] == "5"
    answer = await bot.driver.view_submission(ids.PLAN_EDIT_MODAL, prefilled(view, count="7"), user=ALICE)

    assert answer.status == 200 and answer.body == ""
    rendered = await bot.card_text(1, "(v2)")
    assert "*v2*: edited by <@U0123ALICE1>" in rendered
    assert "replicas 5 → 7" in rendered
    assert f"Approvals of v1 by <@{BOB}> are void; v2 needs its own." in rendered
    assert "Approvals*\\n0 of 1" in rendered
    values = {
        element["value"]
        for block in bot.card(1)["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if "value" in element
    }
    assert values and all(value.startswith("1:2") for value in values)
    assert len(bot.slack.calls_to("chat.postMessage")) == 1  # the same card, edited in place
    async with bot.carapulse.runtime.sessions() as session:
        [kept] = (await session.scalars(select(PlanVersion))).all()
        revised = (await session.scalars(select(AuditEvent).where(AuditEvent.kind == "plan.revised"))).all()
    assert kept.version == 1 and kept.voided_approvers == [BOB]
    assert revised[0].detail["voided_approvals"] == [BOB]
    assert revised[0].detail["to_version"] == 2


async def test_a_click_on_the_outdated_card_is_refused(bot: RunningBot) -> None:
    await blocked_with_an_approval(bot)
    view = await edit_dialog(bot)
    await bot.driver.view_submission(ids.PLAN_EDIT_MODAL, prefilled(view, count="7"), user=ALICE)
    await bot.card_text(1, "(v2)")

    await bot.driver.block_action(ids.PLAN_APPROVE, "1:1", user=CAROL)

    refused = await ephemeral(bot, "was edited after you saw it")
    assert "your click was for v1, the plan is v2 now" in refused
    assert await bot.count(Approval) == 1  # Bob's, of v1
    await bot.driver.block_action(ids.PLAN_APPROVE, "1:2", user=CAROL)
    await bot.card_text(1, "Approvals*\\n1 of 1")


async def test_only_the_requester_or_an_admin_may_edit(bot: RunningBot) -> None:
    await bot.driver.slash_command(SCALE)
    await bot.card_text(1, "Awaiting approval")

    await bot.driver.block_action(ids.PLAN_EDIT, "1:1", user=BOB)

    refused = await ephemeral(bot, "or an admin may edit it")
    assert f"Only <@{ALICE}>" in refused
    assert not bot.slack.calls_to("views.open")
    bot.slack.add_user(CAROL, "carol")
    view = await edit_dialog(bot, user=CAROL)
    assert view["callback_id"] == ids.PLAN_EDIT_MODAL


async def test_a_wrong_input_is_refused_beside_its_field(bot: RunningBot) -> None:
    await bot.driver.slash_command(SCALE)
    await bot.card_text(1, "Awaiting approval")
    view = await edit_dialog(bot)

    answer = await bot.driver.view_submission(ids.PLAN_EDIT_MODAL, prefilled(view, count="-3"), user=ALICE)

    assert answer.json()["response_action"] == "errors"
    assert "count" in answer.json()["errors"]
    assert await bot.count(PlanVersion) == 0


async def test_a_sentence_plan_is_edited_as_its_text(bot: RunningBot) -> None:
    await bot.driver.slash_command("restart checkout in shop")
    await bot.card_text(1, "Awaiting approval")
    view = await edit_dialog(bot)
    [text] = [b for b in view["blocks"] if b.get("block_id") == ids.EDIT_INTENT_BLOCK]
    assert text["element"]["initial_value"] == "restart checkout in shop"

    def typed(words: str) -> dict[str, Any]:
        return {ids.EDIT_INTENT_BLOCK: {ids.EDIT_INTENT_INPUT: {"type": "plain_text_input", "value": words}}}

    unreadable = await bot.driver.view_submission(ids.PLAN_EDIT_MODAL, typed("make it better"), user=ALICE)
    same = await bot.driver.view_submission(
        ids.PLAN_EDIT_MODAL, typed("restart checkout in shop"), user=ALICE
    )
    nothing = await ephemeral(bot, "Nothing changed")
    changed = await bot.driver.view_submission(
        ids.PLAN_EDIT_MODAL, typed("restart checkout in web"), user=ALICE
    )

    assert unreadable.json()["response_action"] == "errors"
    assert "could not read a plan" in unreadable.json()["errors"][ids.EDIT_INTENT_BLOCK]
    assert same.status == 200 and "v1 as it stands" in nothing
    assert changed.status == 200
    rendered = await bot.card_text(1, "(v2)")
    assert "namespace: shop → web" in rendered
    assert "request: restart checkout in shop → restart checkout in web" in rendered
