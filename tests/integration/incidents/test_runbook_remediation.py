"""An incident proposes the remediation of the runbook that names its alert, before any
INCIDENT_REMEDIATIONS rule, and nothing when neither names it."""

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import runbooks
from bot.db.models import IncidentPlan, Plan
from bot.domain import Actor
from bot.playground.slack.state import ALICE, OPS_CHANNEL, TEAM_ID
from bot.runbooks import RunbookDraft
from tests.alerts import alert, webhook
from tests.harness import RunningBot, running_bot
from tests.hooks import post
from tests.integration.incidents.conftest import INCIDENT_SETTINGS

SCALE_UP_RULE = {
    "alertname": "ProbeAlwaysFiring",
    "workflow": "incident_remediation",
    "inputs": {"remediation": "scale_up", "service": "{service}", "namespace": "shop", "replicas": "4"},
}
RESTART_RUNBOOK = RunbookDraft(
    service="checkout",
    title="Checkout probe failing",
    body="1. Look at the pods.\n2. Restart them.",
    workflow="incident_remediation",
    inputs={"remediation": "restart", "service": "{service}", "namespace": "shop"},
    alertnames=["ProbeAlwaysFiring"],
)


@pytest.fixture
async def bot(database_url: str, tmp_path: Path) -> AsyncIterator[RunningBot]:
    overrides = {**INCIDENT_SETTINGS, "INCIDENT_REMEDIATIONS": json.dumps([SCALE_UP_RULE])}
    async with running_bot(database_url=database_url, tmp_path=tmp_path, overrides=overrides) as running:
        yield running


async def _write_runbook(bot: RunningBot, draft: RunbookDraft) -> None:
    runtime = bot.carapulse.runtime
    author = Actor(team_id=TEAM_ID, user_id=ALICE)
    async with runtime.sessions.begin() as session:
        await runbooks.save(session, actor=author, draft=draft, catalog=runtime.workflows)


async def _proposed_plan(bot: RunningBot, alertname: str) -> Plan:
    await post(bot.url, "alertmanager", webhook(alert(fingerprint="bb01", alertname=alertname)))
    await bot.slack.wait_until(
        lambda: any(m.get("text", "").startswith("Plan #1") for m in bot.slack.messages[OPS_CHANNEL].values())
    )
    async with bot.carapulse.runtime.sessions() as session:
        plan = await session.scalar(select(Plan).where(Plan.id == 1))
        link = await session.scalar(select(IncidentPlan).where(IncidentPlan.plan_id == 1))
    assert plan is not None and link is not None and link.incident_id == 1
    return plan


async def test_the_runbook_that_names_the_alert_is_proposed_before_the_configured_rule(
    bot: RunningBot,
) -> None:
    await _write_runbook(bot, RESTART_RUNBOOK)

    plan = await _proposed_plan(bot, "ProbeAlwaysFiring")

    assert "runbook #1 Checkout probe failing (v1)" in plan.intent
    assert plan.workflow_inputs is not None and plan.workflow_inputs["remediation"] == "restart"
    assert plan.workflow_inputs["service"] == "checkout"
    assert plan.status == "awaiting_approval"


async def test_without_a_runbook_the_configured_rule_is_proposed(bot: RunningBot) -> None:
    plan = await _proposed_plan(bot, "ProbeAlwaysFiring")

    assert "INCIDENT_REMEDIATIONS[0]" in plan.intent
    assert plan.workflow_inputs is not None and plan.workflow_inputs["remediation"] == "scale_up"


async def test_a_runbook_for_another_alert_is_not_proposed(bot: RunningBot) -> None:
    await _write_runbook(bot, RESTART_RUNBOOK.model_copy(update={"alertnames": ["CheckoutDown"]}))

    plan = await _proposed_plan(bot, "ProbeAlwaysFiring")

    assert "INCIDENT_REMEDIATIONS[0]" in plan.intent
