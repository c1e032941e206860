from pathlib import Path

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
