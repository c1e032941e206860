"""The incident message's buttons, the proposed remediation and the export, driven as Slack would."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from blocks import ids
from bot.db.models import IncidentPlan, Plan
from bot.playground.slack.state import ALICE, BOB, OPS_CHANNEL
from tests.alerts import alert, webhook
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.prometheus_stack import RunningStack
from tests.harness import RunningBot, running_bot
from tests.hooks import post
from tests.integration.incidents.conftest import INCIDENT_SETTINGS

RESTART_CHECKOUT = [
    {
        "alertname": "ProbeAlwaysFiring",
        "workflow": "incident_remediation",
        "inputs": {"remediation": "restart", "service": "{service}", "namespace": "shop"},
    }
]


@pytest.fixture
async def opened(
    database_url: str, tmp_path: Path, stack: RunningStack
) -> AsyncIterator[tuple[RunningBot, str]]:
    """A bot with Alertmanager (real) and a proposed restart, and incident #1 open: (bot, its message ts)."""
    overrides = {
        **INCIDENT_SETTINGS,
        "ALERTMANAGER_URL": stack.alertmanager_url,
        "INCIDENT_REMEDIATIONS": json.dumps(RESTART_CHECKOUT),
    }
    async with running_bot(database_url=database_url, tmp_path=tmp_path, overrides=overrides) as bot:
        await post(bot.url, "alertmanager", webhook(alert(fingerprint="aa01")))
        message = await bot.slack.wait_until(lambda: _message(bot, "Incident #1"))
        await bot.slack.wait_until(lambda: _message(bot, "Plan #1", thread=message["ts"]))
        yield bot, message["ts"]


def _message(bot: RunningBot, prefix: str, *, thread: str | None = None) -> dict[str, Any] | None:
    for message in bot.slack.messages[OPS_CHANNEL].values():
        in_thread = message.get("thread_ts") == thread and message["ts"] != thread if thread else True
        if in_thread and message.get("text", "").startswith(prefix):
            return message
    return None


def _incident_blocks(bot: RunningBot) -> str:
    return str((_message(bot, "Incident #1") or {}).get("blocks"))


async def test_the_proposed_remediation_waits_for_an_approval_then_runs(
    opened: tuple[RunningBot, str],
) -> None:
    bot, ts = opened
    async with bot.carapulse.runtime.sessions() as session:
        plan = await session.scalar(select(Plan).where(Plan.id == 1))
        link = await session.scalar(select(IncidentPlan).where(IncidentPlan.plan_id == 1))
    assert plan is not None and plan.status == "awaiting_approval"
    assert plan.decision["required_approvals"] >= 1 and link is not None and link.incident_id == 1
    assert plan.requester_id == bot.carapulse.incidents.identity.user_id
    await bot.driver.block_action(
        ids.PLAN_APPROVE, "1", user=BOB, message_ts=_message(bot, "Plan #1", thread=ts)["ts"]
    )
    await bot.slack.wait_until(
        lambda: "Succeeded" in str(_message(bot, "Plan #1", thread=ts)["blocks"]), timeout=30
    )


async def test_acknowledge_marks_the_message_once(opened: tuple[RunningBot, str]) -> None:
    bot, ts = opened
    await bot.driver.block_action(ids.INCIDENT_ACKNOWLEDGE, "1", user=ALICE, message_ts=ts)
    await bot.slack.wait_until(lambda: f"by <@{ALICE}>" in _incident_blocks(bot))
    await bot.driver.block_action(ids.INCIDENT_ACKNOWLEDGE, "1", user=BOB, message_ts=ts)
    said = await bot.slack.wait_until(lambda: [r for r in bot.slack.responses if "already" in str(r.body)])
    assert "acknowledged by" in said[0].body["text"]


async def test_silence_plans_an_alertmanager_silence_in_the_thread(opened: tuple[RunningBot, str]) -> None:
    bot, ts = opened
    await bot.driver.block_action(ids.INCIDENT_SILENCE, "1", user=ALICE, message_ts=ts)
    card = await bot.slack.wait_until(lambda: _message(bot, "Plan #2", thread=ts))
    steps = json.dumps(card["blocks"])
    assert "alertmanager.create_silence" in steps and '\\"duration_seconds\\": 3600' in steps
    assert 'alertname=\\\\\\"ProbeAlwaysFiring' in steps


async def test_investigate_reads_the_diagnostics_again(opened: tuple[RunningBot, str]) -> None:
    bot, ts = opened
    await bot.driver.block_action(ids.INCIDENT_INVESTIGATE, "1", user=BOB, message_ts=ts)
    await bot.slack.wait_until(
        lambda: (
            f"asked by <@{BOB}>" in str([m.get("blocks") for m in bot.slack.messages[OPS_CHANNEL].values()])
        )
    )


async def test_resolve_posts_the_timeline_with_plans_and_who_did_what_and_exports_it(
    opened: tuple[RunningBot, str],
) -> None:
    bot, ts = opened
    await bot.driver.block_action(ids.INCIDENT_ACKNOWLEDGE, "1", user=ALICE, message_ts=ts)
    # Two clicks are two requests that may be worked on at once; the story wants them in order.
    await bot.slack.wait_until(lambda: f"by <@{ALICE}>" in _incident_blocks(bot))
    await bot.driver.block_action(ids.INCIDENT_RESOLVE, "1", user=BOB, message_ts=ts)
    await bot.slack.wait_until(lambda: f"Resolved by <@{BOB}>" in _incident_blocks(bot))
    timeline = await bot.slack.wait_until(lambda: _message(bot, "Timeline of incident #1", thread=ts))
    rendered = str(timeline["blocks"])
    assert "Plan #1 (restart shop/checkout): plan created" in rendered
    assert f"Acknowledged (<@{ALICE}>)" in rendered and f"Resolved by hand (<@{BOB}>)" in rendered
    await bot.driver.block_action(ids.INCIDENT_EXPORT, "1", user=BOB, message_ts=timeline["ts"])
    files = await bot.slack.wait_until(lambda: f if len(f := bot.slack.uploaded_files) >= 2 else None)
    by_name = {f.name: f for f in files}
    document = json.loads(by_name["incident-1-timeline.json"].content)
    assert document["incident"]["resolved_by"] == BOB
    assert any(entry["plan_id"] == 1 for entry in document["timeline"])
    assert b"| time (UTC) | what | who |" in by_name["incident-1-timeline.md"].content
    assert by_name["incident-1-timeline.md"].thread_ts == ts


async def test_the_export_command_uploads_both_files(opened: tuple[RunningBot, str]) -> None:
    bot, _ = opened
    await bot.driver.slash_command("incident export 1")
    files = await bot.slack.wait_until(lambda: f if len(f := bot.slack.uploaded_files) >= 2 else None)
    assert sorted(f.name for f in files) == ["incident-1-timeline.json", "incident-1-timeline.md"]


async def test_acknowledge_plans_the_pagerduty_acknowledgement_which_policy_decides(
    database_url: str, tmp_path: Path
) -> None:
    async with FakePagerDuty() as pagerduty:
        pagerduty.add_service("PSVC001", "Checkout")
        paged = pagerduty.add_incident("PSVC001", "checkout is burning")
        overrides = {
            **INCIDENT_SETTINGS,
            "INCIDENT_SERVICES": json.dumps({"checkout": {"pagerduty_service": "PSVC001"}}),
            "PAGERDUTY_TOKEN": pagerduty.token,
            "PAGERDUTY_API_URL": pagerduty.url,
            "PAGERDUTY_FROM_EMAIL": "oncall@example.com",
        }
        async with running_bot(database_url=database_url, tmp_path=tmp_path, overrides=overrides) as bot:
            await post(bot.url, "alertmanager", webhook(alert(fingerprint="aa01")))
            message = await bot.slack.wait_until(lambda: _message(bot, "Incident #1"))
            await bot.driver.block_action(ids.INCIDENT_ACKNOWLEDGE, "1", user=ALICE, message_ts=message["ts"])
            card = await bot.slack.wait_until(lambda: _message(bot, "Plan #1", thread=message["ts"]))
            assert "pagerduty.acknowledge_incident" in str(card["blocks"]) and paged.status == "triggered"
            # Production: policy asks for an approval, from someone else.
            await bot.driver.block_action(ids.PLAN_APPROVE, "1", user=BOB, message_ts=card["ts"])
            await bot.slack.wait_until(
                lambda: "Succeeded" in str(_message(bot, "Plan #1", thread=message["ts"])["blocks"]),
                timeout=30,
            )
            assert paged.status == "acknowledged"
