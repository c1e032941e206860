from pathlib import Path

import pytest

from blocks import ids
from tests.harness import RunningBot, running_bot


async def test_a_viewer_cannot_plan_a_write(bot: RunningBot) -> None:
    bot.slack.add_user("U0123DAVE44", "dave")

    await bot.driver.slash_command("scale checkout to 5 in shop", user="U0123DAVE44")

    responses = await bot.slack.wait_until(lambda: bot.slack.responses)
    assert "Denied: planning a write needs the operator or admin role" in responses[0].body["text"]
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_an_approver_role_is_needed_to_approve(bot: RunningBot) -> None:
    bot.slack.add_user("U0123DAVE44", "dave")
    await bot.driver.slash_command("scale checkout to 5 in shop")
    await bot.card_text(1, "Awaiting approval")

    await bot.driver.block_action(ids.PLAN_APPROVE, "1", user="U0123DAVE44")

    responses = await bot.slack.wait_until(lambda: bot.slack.responses)
    assert "Denied: approving needs the approver or admin role" in responses[0].body["text"]


async def test_a_broken_policy_refuses_writes_with_the_reason(database_url: str, tmp_path: Path) -> None:
    broken = tmp_path / "policies"
    broken.mkdir()
    (broken / "decision.rego").write_text("package carapulse.decision\n\ndecision := {\n")

    async with running_bot(
        database_url=database_url, tmp_path=tmp_path, overrides={"POLICY_DIR": str(broken)}
    ) as bot:
        await bot.driver.slash_command("scale checkout to 5 in shop")

        responses = await bot.slack.wait_until(lambda: bot.slack.responses)
        assert "Policy is unavailable, so writes are refused" in responses[0].body["text"]
        assert bot.slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("freeze prod 2h release", "Only admins can freeze"),
        ("freeze nowhere 2h release", "Only admins can freeze"),
        ("unfreeze prod", "Only admins can unfreeze"),
    ],
)
async def test_only_admins_freeze(bot: RunningBot, text: str, expected: str) -> None:
    await bot.driver.slash_command(text)

    responses = await bot.slack.wait_until(lambda: bot.slack.responses)
    assert expected in responses[0].body["text"]


async def test_freezing_an_unknown_environment_is_refused(bot: RunningBot) -> None:
    bot.slack.add_user("U0123CAROL3", "carol")

    await bot.driver.slash_command("freeze nowhere 2h release", user="U0123CAROL3")

    responses = await bot.slack.wait_until(lambda: bot.slack.responses)
    assert "nowhere is not a configured environment (known: prod)" in responses[0].body["text"]


async def test_bad_freeze_duration_is_answered_inside_the_ack(bot: RunningBot) -> None:
    response = await bot.driver.slash_command("freeze prod soon release")

    assert "is not a duration like 30m, 2h or 1d" in response.json()["text"]
