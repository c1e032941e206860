"""What a model planner reads beside the request: the operator notes and runbooks of the services the
request names (and only theirs, and only this workspace's), fenced as data."""

from __future__ import annotations

from pathlib import Path

from bot import memory, runbooks
from bot.domain import Actor
from bot.playground.slack.state import ALICE, TEAM_ID
from bot.runbooks import RunbookDraft
from tests.fakes.model_api import answer
from tests.harness import RunningBot
from tests.integration.actions.model_support import CHAT, ephemeral, planning_bot

OTHER_TEAM = "T0999OTHERS"


async def _remember(bot: RunningBot, *, team_id: str, service: str, text: str) -> None:
    async with bot.carapulse.runtime.sessions.begin() as session:
        await memory.add(session, actor=Actor(team_id=team_id, user_id=ALICE), service=service, text=text)


async def _write_runbook(bot: RunningBot, *, service: str, body: str) -> None:
    runtime = bot.carapulse.runtime
    draft = RunbookDraft(service=service, title=f"{service} is slow", body=body)
    async with runtime.sessions.begin() as session:
        await runbooks.save(
            session, actor=Actor(team_id=TEAM_ID, user_id=ALICE), draft=draft, catalog=runtime.workflows
        )


async def test_notes_and_runbooks_of_the_named_service_reach_the_model_as_data(
    database_url: str, tmp_path: Path
) -> None:
    async with planning_bot(database_url, tmp_path, CHAT) as planning:
        bot, api = planning.bot, planning.api
        await _remember(bot, team_id=TEAM_ID, service="checkout", text="never scale below 3 in prod")
        await _remember(bot, team_id=TEAM_ID, service="payments", text="payments-only note")
        await _remember(bot, team_id=OTHER_TEAM, service="checkout", text="another workspace's note")
        await _write_runbook(bot, service="checkout", body="1. Check the connection pool first.")
        api.then(answer("cannot_plan", {"reason": "a person should look first"}))

        await bot.driver.slash_command("checkout in shop feels slow, do something")

        await ephemeral(bot, "cannot plan this")
        sent = api.received.decode()
    assert "never scale below 3 in prod" in sent
    assert "operator note on checkout by <@U0123ALICE1>" in sent
    assert "Check the connection pool first." in sent
    assert "runbook #1 checkout is slow (checkout)" in sent
    assert "payments-only note" not in sent
    assert "another workspace's note" not in sent
    assert "source=operator note on checkout" in sent and "source=runbook #1" in sent
