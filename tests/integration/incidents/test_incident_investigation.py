"""Investigate on an incident with a model configured: the diagnostics again, then the model's
read-only investigation, given the alert and the diagnostics as data, with its findings in the thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from blocks import ids
from bot.playground.slack.state import BOB, OPS_CHANNEL
from tests.alerts import alert, webhook
from tests.fakes.model_api import Answer, Call, answer
from tests.harness import RunningBot
from tests.hooks import post
from tests.integration.actions.model_support import CHAT, planning_bot
from tests.integration.incidents.conftest import INCIDENT_SETTINGS

REPORT = {
    "summary": "checkout runs 2 of 2 pods; the probe itself is failing.",
    "findings": [{"finding": "Both pods are ready", "evidence": [1]}],
}


def _reply(bot: RunningBot, thread: str, prefix: str) -> dict[str, Any] | None:
    for message in bot.slack.messages[OPS_CHANNEL].values():
        if message.get("thread_ts") == thread and message.get("text", "").startswith(prefix):
            return message
    return None


async def test_investigate_asks_the_model_with_the_alert_as_data_and_posts_its_findings(
    database_url: str, tmp_path: Path
) -> None:
    async with planning_bot(database_url, tmp_path, CHAT, **INCIDENT_SETTINGS) as planning:
        bot, api = planning.bot, planning.api
        await post(bot.url, "alertmanager", webhook(alert(fingerprint="cc01", team="<!channel> shop")))
        incident = await bot.slack.wait_until(
            lambda: next(
                (
                    m
                    for m in bot.slack.messages[OPS_CHANNEL].values()
                    if m.get("text", "").startswith("Incident #1")
                ),
                None,
            )
        )
        api.then(
            Answer((Call("kubernetes__get_deployment", {"namespace": "shop", "name": "checkout"}),)),
            answer("report_findings", REPORT),
        )

        await bot.driver.block_action(ids.INCIDENT_INVESTIGATE, "1", user=BOB, message_ts=incident["ts"])

        reply = await bot.slack.wait_until(lambda: _reply(bot, incident["ts"], "Investigation"), timeout=30)
        sent = api.received.decode()
    blocks = str(reply["blocks"])
    assert "the probe itself is failing" in blocks
    assert "#1 `kubernetes.get_deployment`" in blocks
    assert "Why is ProbeAlwaysFiring firing for checkout" in sent
    assert "source=alert labels" in sent and "<!channel> shop" in sent
    assert "source=diagnostics:" in sent
