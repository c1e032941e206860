"""Where an incident's message goes: its service's channel, the default one for a service nobody
configured, or a channel of its own for the severities that get one; labels never ping."""

import json
from pathlib import Path
from typing import Any

from bot.playground.slack.state import ALICE, OPS_CHANNEL, TEAM_DOMAIN
from tests.alerts import alert, webhook
from tests.fakes.pagerduty import FakePagerDuty
from tests.harness import RunningBot, running_bot
from tests.hooks import post
from tests.integration.incidents.conftest import INCIDENT_SETTINGS, PAYMENTS_CHANNEL


def _incidents(bot: RunningBot, channel: str) -> list[dict[str, Any]]:
    return [
        m for m in bot.slack.messages.get(channel, {}).values() if m.get("text", "").startswith("Incident #")
    ]


async def test_a_configured_service_goes_to_its_channel_and_an_unknown_one_to_the_default(
    incident_bot: RunningBot,
) -> None:
    body = webhook(
        alert(fingerprint="aa01", service="payments"), alert(fingerprint="bb01", service="nobody-knows")
    )
    assert (await post(incident_bot.url, "alertmanager", body)).status == 200
    [payments] = await incident_bot.slack.wait_until(lambda: _incidents(incident_bot, PAYMENTS_CHANNEL))
    [unknown] = await incident_bot.slack.wait_until(lambda: _incidents(incident_bot, OPS_CHANNEL))
    assert "payments" in payments["text"] and "nobody-knows" in unknown["text"]


async def test_a_paging_severity_gets_a_channel_of_its_own_with_a_pointer(incident_bot: RunningBot) -> None:
    await post(incident_bot.url, "alertmanager", webhook(alert(fingerprint="aa01", severity="page")))
    [created] = await incident_bot.slack.wait_until(
        lambda: incident_bot.slack.calls_to("conversations.create")
    )
    assert created.args["name"] == "inc-20261126-checkout"
    channel = created.response["channel"]["id"]
    await incident_bot.slack.wait_until(lambda: _incidents(incident_bot, channel))
    pointer = await incident_bot.slack.wait_until(
        lambda: [m for m in incident_bot.slack.messages[OPS_CHANNEL].values() if f"<#{channel}>" in m["text"]]
    )
    assert "has its own channel" in pointer[0]["text"]


async def test_a_label_with_a_broadcast_or_mrkdwn_never_pings(incident_bot: RunningBot) -> None:
    labels = {"pod": "<!channel> <@U0123ALICE1> *bold* _it_ & <https://evil.example|click>"}
    body = webhook(alert(fingerprint="aa01", service="<!here>", **labels))
    assert (await post(incident_bot.url, "alertmanager", body)).status == 200
    [message] = await incident_bot.slack.wait_until(lambda: _incidents(incident_bot, OPS_CHANNEL))
    await incident_bot.carapulse.incidents.settled(1)
    await incident_bot.carapulse.runtime.supervisor.drain()
    for posted in incident_bot.slack.messages[OPS_CHANNEL].values():
        for text in _mrkdwn_texts(posted):
            assert "<!" not in text and "<@U0123ALICE1>" not in text and "<https://evil" not in text, text
    assert "&lt;!here&gt;" in message["text"]


def _mrkdwn_texts(message: dict[str, Any]) -> list[str]:
    """The message text and every mrkdwn text object in its blocks (plain_text is never parsed)."""
    found = [message.get("text", "")]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("type") == "mrkdwn":
                found.append(value["text"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(message.get("blocks", []))
    return found


async def test_an_own_channel_invites_the_pagerduty_on_call(database_url: str, tmp_path: Path) -> None:
    async with FakePagerDuty() as pagerduty:
        pagerduty.add_oncall(("PEPOL01", "Checkout"), 1, "Alice", email=f"alice@{TEAM_DOMAIN}.example.com")
        services = {"checkout": {"escalation_policy": "PEPOL01"}}
        overrides = {
            **INCIDENT_SETTINGS,
            "INCIDENT_SERVICES": json.dumps(services),
            "PAGERDUTY_TOKEN": pagerduty.token,
            "PAGERDUTY_API_URL": pagerduty.url,
        }
        async with running_bot(database_url=database_url, tmp_path=tmp_path, overrides=overrides) as bot:
            await post(bot.url, "alertmanager", webhook(alert(fingerprint="aa01", severity="page")))
            [invite] = await bot.slack.wait_until(lambda: bot.slack.calls_to("conversations.invite"))
            assert invite.ok and invite.args["users"] == ALICE


async def test_a_service_the_context_graph_maps_to_a_channel_goes_there(
    database_url: str, tmp_path: Path
) -> None:
    mapping = tmp_path / "services.yaml"
    mapping.write_text(f"services:\n  inventory:\n    owner: '@stock'\n    channel: {PAYMENTS_CHANNEL}\n")
    overrides = {**INCIDENT_SETTINGS, "CONTEXT_MAPPING_FILE": str(mapping), "CONTEXT_REFRESH_SECONDS": "0"}
    async with running_bot(
        database_url=database_url,
        tmp_path=tmp_path,
        overrides=overrides,
        prepare_slack=lambda slack: slack.add_channel(PAYMENTS_CHANNEL, "payments"),
    ) as bot:
        await bot.carapulse.runtime.context.refresh(team_ids=[bot.carapulse.incidents.team_id])
        await post(bot.url, "alertmanager", webhook(alert(fingerprint="aa01", service="inventory")))
        [message] = await bot.slack.wait_until(lambda: _incidents(bot, PAYMENTS_CHANNEL))
    assert "inventory" in message["text"]
    assert _incidents(bot, OPS_CHANNEL) == []
