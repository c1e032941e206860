"""Through Slack: a freeze blocks a plan, an admin breaks glass with a reason and security hears of
it, lifting a freeze releases what it held, and roles come from Slack user groups too."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from blocks import ids
from bot.playground.slack.state import BOB
from bot.playground.slack.web_api import FakeSlack
from tests.harness import RunningBot, running_bot

CAROL = "U0123CAROL3"  # approver and admin
DAVE = "U0123DAVE04"  # only in the sre-oncall user group
EVE = "U0123EVE005"  # nobody: a viewer
SECURITY = "C0SECURITY1"
SCALE = "scale checkout to 5 in shop"


def people_and_channels(slack: FakeSlack) -> None:
    for user_id, name in ((CAROL, "carol"), (DAVE, "dave"), (EVE, "eve")):
        slack.add_user(user_id, name)
    slack.add_usergroup("S0SREONCALL", handle="sre-oncall", users=[DAVE])
    slack.add_channel(SECURITY, "security")


@pytest.fixture
async def bot(database_url: str, tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(
        database_url=database_url,
        tmp_path=tmp_path,
        overrides={
            "SECURITY_CHANNEL": SECURITY,
            "USERGROUP_ROLES": json.dumps({"S0SREONCALL": ["operator"]}),
        },
        prepare_slack=people_and_channels,
    ) as running:
        yield running


def reason(text: str) -> dict[str, object]:
    return {ids.REASON_BLOCK: {ids.REASON_INPUT: {"type": "plain_text_input", "value": text}}}


async def frozen_and_planned(bot: RunningBot) -> None:
    await bot.driver.slash_command("freeze prod 2h release freeze", user=CAROL)
    await bot.slack.wait_until(lambda: bot.slack.responses)
    await bot.driver.slash_command(SCALE)
    await bot.card_text(1, "Blocked by policy")


async def test_a_frozen_environment_blocks_the_plan_with_the_reason_on_its_card(bot: RunningBot) -> None:
    await frozen_and_planned(bot)

    rendered = await bot.card_text(1, "Denied: prod is frozen until")
    assert "(release freeze)" in rendered
    assert ids.PLAN_BREAK_GLASS in rendered
    assert bot.kube.deployment("shop", "checkout")["spec"]["replicas"] == 2


async def test_only_an_admin_may_break_glass(bot: RunningBot) -> None:
    await frozen_and_planned(bot)

    await bot.driver.block_action(ids.PLAN_BREAK_GLASS, "1", user=BOB)

    refused = await bot.slack.wait_until(
        lambda: [
            r for r in bot.slack.responses if "break-glass needs the admin role" in r.body.get("text", "")
        ]
    )
    assert refused
    assert not [c for c in bot.slack.calls_to("views.open") if c.ok]


async def test_break_glass_runs_the_plan_and_tells_security(bot: RunningBot) -> None:
    await frozen_and_planned(bot)

    await bot.driver.block_action(ids.PLAN_BREAK_GLASS, "1", user=CAROL)
    await bot.slack.wait_for(lambda c: c.method == "views.open" and c.ok)
    blank = await bot.driver.view_submission(ids.BREAK_GLASS_MODAL, reason(" "), user=CAROL)
    accepted = await bot.driver.view_submission(ids.BREAK_GLASS_MODAL, reason("checkout is down"), user=CAROL)

    assert blank.json()["response_action"] == "errors"
    assert accepted.status == 200
    rendered = await bot.card_text(1, "Succeeded")
    assert "Break-glass by" in rendered and "checkout is down" in rendered
    assert bot.kube.deployment("shop", "checkout")["spec"]["replicas"] == 5
    [notice] = bot.slack.messages[SECURITY].values()
    assert f"<@{CAROL}> forced plan #1 to run. Reason: checkout is down" in str(notice["blocks"])
    assert "Denied: prod is frozen until" in str(notice["blocks"])
    thread = [m for m in bot.slack.messages["C0123OPSCHN"].values() if "Break-glass" in m.get("text", "")]
    assert len(thread) == 1 and thread[0].get("thread_ts")


async def test_lifting_the_freeze_runs_the_approved_blocked_plan(bot: RunningBot) -> None:
    await frozen_and_planned(bot)
    await bot.driver.block_action(ids.PLAN_APPROVE, "1", user=BOB)
    await bot.card_text(1, "Approvals*\\n1 of 1")

    await bot.driver.slash_command("unfreeze prod", user=CAROL)

    lifted = await bot.slack.wait_until(
        lambda: [r for r in bot.slack.responses if "no longer frozen" in r.body.get("text", "")]
    )
    assert "blocked plans #1 are running" in lifted[0].body["text"]
    await bot.card_text(1, "Succeeded")


async def test_roles_come_from_slack_user_groups(bot: RunningBot) -> None:
    await bot.driver.slash_command(SCALE, user=DAVE)
    await bot.card_text(1, "Awaiting approval")

    await bot.driver.slash_command(SCALE, user=EVE)

    refused = await bot.slack.wait_until(
        lambda: [
            r for r in bot.slack.responses if "needs the operator or admin role" in r.body.get("text", "")
        ]
    )
    assert refused
    assert bot.slack.calls_to("usergroups.users.list")[0].args["usergroup"] == "S0SREONCALL"


async def test_a_user_group_slack_does_not_know_gives_nobody_roles(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(
        database_url=database_url,
        tmp_path=tmp_path,
        overrides={"USERGROUP_ROLES": json.dumps({"S0NOSUCHGRP": ["admin"]})},
        prepare_slack=people_and_channels,
    ) as bot:
        await bot.driver.slash_command(SCALE, user=DAVE)

        refused = await bot.slack.wait_until(lambda: bot.slack.responses)
    assert "needs the operator or admin role" in refused[0].body["text"]
    assert "cannot list members of user group S0NOSUCHGRP: no_such_subteam" in caplog.text
