"""The reads people ask for most answer in the plan's thread at once, with no approval: pods, logs
and history of a Deployment (fake Kubernetes) and alerts for a service (the real Alertmanager)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.fakes.prometheus_stack import RunningStack, eventually
from tests.harness import RunningBot, running_bot

VIEWER = "U0123VIEWER"


async def answer(bot: RunningBot, text: str, *, user: str = "U0123ALICE1") -> str:
    await bot.driver.slash_command(text, user=user)
    await bot.card_text(1, "Succeeded")
    reply = await bot.slack.wait_for(
        lambda c: c.method == "chat.postMessage" and c.ok and bool(c.args.get("thread_ts"))
    )
    return str(reply.args["blocks"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pods of checkout in shop", "2 pods in shop (app=checkout): 2 ready, 0 restarts"),
        ("history of checkout in shop", "revision 1"),
        ("logs of checkout in shop", "log lines from 2 pod(s) of shop/checkout"),
    ],
)
async def test_a_read_runs_without_approval_and_answers_in_the_thread(
    bot: RunningBot, text: str, expected: str
) -> None:
    reply = await answer(bot, text)

    assert expected in reply
    assert "nothing was changed" not in reply
    assert bot.slack.calls_to("chat.postEphemeral") == []


async def test_a_viewer_may_read(bot: RunningBot) -> None:
    bot.slack.add_user(VIEWER, "vera")

    reply = await answer(bot, "pods of checkout in shop", user=VIEWER)

    assert "2 ready" in reply


async def test_alerts_for_a_service_come_from_alertmanager(
    database_url: str, tmp_path: Path, stack: RunningStack
) -> None:
    overrides = {"ALERTMANAGER_URL": stack.alertmanager_url}
    async with running_bot(database_url=database_url, tmp_path=tmp_path, overrides=overrides) as bot:
        await eventually(
            lambda: _alert_names(stack.alertmanager_url), lambda names: "ProbeAlwaysFiring" in names
        )

        reply = await answer(bot, "alerts for checkout")

    assert "ProbeAlwaysFiring" in reply


async def test_a_read_whose_tool_is_not_configured_is_refused_in_the_ack(bot: RunningBot) -> None:
    response = await bot.driver.slash_command("alerts for checkout")

    assert response.json()["response_type"] == "ephemeral"
    assert "I cannot run alertmanager.list_alerts: alertmanager is not configured" in response.json()["text"]
    assert bot.slack.calls_to("chat.postMessage") == []


async def _alert_names(alertmanager_url: str) -> set[str]:
    async with aiohttp.ClientSession() as session, session.get(f"{alertmanager_url}/api/v2/alerts") as answer:
        return {alert["labels"]["alertname"] for alert in await answer.json()}
