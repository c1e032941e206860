"""End to end with the real Debian Prometheus and Alertmanager: a rule fires, Alertmanager's webhook
reaches the bot, the thread gets the chart and diagnostics read from that Prometheus and that
Alertmanager, and the rule resolving resolves the incident and posts its timeline."""

from pathlib import Path
from typing import Any

from bot.playground.slack.state import OPS_CHANNEL
from tests.fakes.prometheus_stack import RULES, Webhook, running_stack
from tests.harness import RunningBot, running_bot
from tests.hooks import ALERTMANAGER_TOKEN
from tests.integration.incidents.conftest import INCIDENT_SETTINGS
from tests.processes import free_port

INCIDENT_RULES = RULES.with_name("incident_rules.yml")
SECONDS = 60


def _messages(bot: RunningBot) -> list[dict[str, Any]]:
    return list(bot.slack.messages[OPS_CHANNEL].values())


def _incident(bot: RunningBot) -> dict[str, Any] | None:
    return next((m for m in _messages(bot) if m.get("text", "").startswith("Incident #1")), None)


def _reply(bot: RunningBot, prefix: str) -> dict[str, Any] | None:
    return next(
        (m for m in _messages(bot) if m.get("thread_ts") and m.get("text", "").startswith(prefix)), None
    )


async def test_a_firing_rule_opens_a_thread_and_resolving_it_posts_the_timeline(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    (tmp_path / "stack").mkdir()
    webhook = Webhook(f"http://127.0.0.1:{port}/hooks/alertmanager", ALERTMANAGER_TOKEN)
    with running_stack(tmp_path / "stack", scraped=False, rules=INCIDENT_RULES, webhook=webhook) as stack:
        tools = {"PROMETHEUS_URL": stack.prometheus_url, "ALERTMANAGER_URL": stack.alertmanager_url}
        overrides = {**INCIDENT_SETTINGS, **tools}
        async with running_bot(
            database_url=database_url, tmp_path=tmp_path, overrides=overrides, port=port
        ) as bot:
            message = await bot.slack.wait_until(lambda: _incident(bot), timeout=SECONDS)
            assert "checkout errors above 2%" in str(message["blocks"])
            assert "&lt;!channel&gt;" not in message["text"] and "<!channel>" not in message["text"]
            diagnostics = await bot.slack.wait_until(lambda: _reply(bot, "Diagnostics"), timeout=SECONDS)
            # Read from the real Alertmanager: the alert that opened the incident is among the service's.
            assert "CheckoutErrorsBurning (active)" in str(diagnostics["blocks"])
            [chart] = await bot.slack.wait_until(lambda: bot.slack.uploaded_files or None, timeout=SECONDS)
            assert chart.content.startswith(b"\x89PNG") and chart.name == "incident-1.png"
            assert chart.thread_ts == message["ts"]

            stack.error_ratio.set(0.001)
            await bot.slack.wait_until(
                lambda: "Resolved after" in str((_incident(bot) or {}).get("blocks")), timeout=SECONDS
            )
            timeline = await bot.slack.wait_until(
                lambda: _reply(bot, "Timeline of incident #1"), timeout=SECONDS
            )
            assert "Alert fired: CheckoutErrorsBurning" in str(timeline["blocks"])
