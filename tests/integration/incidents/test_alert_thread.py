from typing import Any

from bot.playground.slack.state import OPS_CHANNEL
from tests.alerts import alert, webhook
from tests.harness import RunningBot
from tests.hooks import post


def _incident_messages(bot: RunningBot, channel: str = OPS_CHANNEL) -> list[dict[str, Any]]:
    return [m for m in bot.slack.messages[channel].values() if m.get("text", "").startswith("Incident #")]


def _thread(bot: RunningBot, channel: str, ts: str) -> list[dict[str, Any]]:
    return [m for m in bot.slack.messages[channel].values() if m.get("thread_ts") == ts and m["ts"] != ts]


async def test_a_firing_alert_opens_a_thread_with_its_diagnostics(incident_bot: RunningBot) -> None:
    answer = await post(incident_bot.url, "alertmanager", webhook(alert(fingerprint="aa01")))
    assert answer.status == 200, answer.text
    assert answer.json() == {"status": "accepted", "incidents": [1]}
    [message] = await incident_bot.slack.wait_until(lambda: _incident_messages(incident_bot) or None)
    assert "Probe alert that always fires" in str(message["blocks"])
    replies = await incident_bot.slack.wait_until(
        lambda: r if len(r := _thread(incident_bot, OPS_CHANNEL, message["ts"])) >= 2 else None
    )
    rendered = str([r["blocks"] for r in replies])
    assert "Diagnostics of incident #1" in rendered
    assert "Pods and restarts" in rendered
    assert "the prometheus tool is not configured here" in rendered
