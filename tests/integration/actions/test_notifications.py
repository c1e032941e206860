"""Plan events beyond Slack, through the whole bot: e-mail received by a real SMTP server (aiosmtpd
on loopback), the webhook received with an HMAC-SHA256 signature that verifies (and retried after a
500, honouring Retry-After), and PagerDuty alerted when a plan fails."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from blocks import ids
from bot.db.models import ScheduledJob
from bot.playground.slack.state import BOB
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.smtp_server import SmtpServer
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.harness import RunningBot
from tests.integration.actions.workflow_support import BotWith

SECRET = "whsec-test-0123456789"
ROUTING_KEY = "R0UT1NGKEY0123456789abcdef012345"
SCALE = "scale checkout to 5 in shop"


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    async with SmtpServer() as server:
        yield server


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as server:
        yield server


def notify(smtp: SmtpServer, receiver: WebhookReceiver, routes: dict[str, object]) -> dict[str, str]:
    return {
        "NOTIFY": json.dumps({"prod": routes}),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_TLS": "none",
        "SMTP_FROM": "carapulse@example.com",
        "NOTIFY_WEBHOOK_URL": receiver.hook_url,
        "NOTIFY_WEBHOOK_SECRET": SECRET,
    }


async def sent(bot: RunningBot) -> None:
    """Schedule what the changes so far call for, then run every job that is due."""
    assert bot.carapulse.events is not None and bot.carapulse.runtime.jobs is not None
    await bot.carapulse.events.drain()
    await bot.carapulse.runtime.jobs.settle()


async def approved_to_the_end(bot: RunningBot, final: str) -> None:
    await bot.card_text(1, "Awaiting approval")
    await bot.driver.block_action(ids.PLAN_APPROVE, "1:1", user=BOB)
    await bot.card_text(1, final)


async def test_each_event_is_mailed_to_the_environments_addresses(
    bot_with: BotWith, smtp: SmtpServer, receiver: WebhookReceiver
) -> None:
    events = ["created", "approved", "started", "succeeded"]
    routes = {"email": {"to": ["sre@example.com", "lead@example.com"], "events": events}}
    async with bot_with(notify(smtp, receiver, routes)) as bot:
        await bot.driver.slash_command(SCALE)
        await approved_to_the_end(bot, "Succeeded")

        messages = await smtp.received(4)

    # A long Subject is folded onto its next line; a mail reader unfolds it and drops the space.
    subjects = sorted(message["Subject"].strip() for _, message in messages)
    assert subjects == sorted(
        f"[carapulse] Plan #1 {event}: scale checkout to 5 replicas (shop) (prod)" for event in events
    )
    recipients, succeeded = next(m for m in messages if "succeeded" in m[1]["Subject"])
    assert recipients == ["sre@example.com", "lead@example.com"]
    assert succeeded["From"] == "carapulse@example.com"
    body = succeeded.get_content()
    assert "Approved by: U0123BOBBY2" in body and "kubernetes.scale: succeeded" in body
    assert receiver.deliveries == []


async def test_the_webhook_is_signed_and_retried_after_a_500(
    bot_with: BotWith, smtp: SmtpServer, receiver: WebhookReceiver
) -> None:
    receiver.fail_next(500, {"error": "busy"}, headers={"Retry-After": "1"})
    routes = {"webhook": {"events": ["created", "succeeded"]}}
    async with bot_with(notify(smtp, receiver, routes)) as bot:
        await bot.driver.slash_command(SCALE)
        await approved_to_the_end(bot, "Succeeded")

        deliveries = await receiver.received(2)
        async with bot.carapulse.runtime.sessions() as session:
            attempts = dict((await session.execute(select(ScheduledJob.key, ScheduledJob.attempts))).all())

    documents = [json.loads(d.body) for d in deliveries]
    assert sorted(d["event"] for d in documents) == ["created", "succeeded"]
    for delivery in deliveries:
        expected = "sha256=" + hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(delivery.headers["X-Carapulse-Signature"], expected)
    assert len(receiver.requests) == 3  # the first delivery was answered 500, then sent again
    assert sorted(attempts.values()) == [1, 2]
    succeeded = next(d for d in documents if d["event"] == "succeeded")
    assert succeeded["delivery"] == "1:succeeded"
    assert succeeded["approvers"] == [BOB] and succeeded["environment"] == "prod"
    assert smtp.messages == []


async def test_a_failed_plan_alerts_pagerduty(
    bot_with: BotWith, smtp: SmtpServer, receiver: WebhookReceiver
) -> None:
    async with FakePagerDuty() as pagerduty:
        pagerduty.add_service("PCHECKOUT", "Checkout", routing_key=ROUTING_KEY)
        settings = {
            **notify(smtp, receiver, {"pagerduty": {"events": ["failed", "rolled_back"]}}),
            "PAGERDUTY_TOKEN": pagerduty.token,
            "PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
            "PAGERDUTY_API_URL": pagerduty.url,
            "PAGERDUTY_EVENTS_URL": pagerduty.url,
        }
        async with bot_with(settings) as bot:
            await bot.driver.slash_command("scale payments to 3 in shop")
            await approved_to_the_end(bot, "Failed")
            await sent(bot)

    [event] = pagerduty.events
    assert event["event_action"] == "trigger"
    assert event["dedup_key"].endswith("-plan-1-failed")
    assert event["payload"]["summary"] == "Plan #1 failed: scale payments to 3 replicas (shop) (prod)"
    assert "deployment shop/payments not found" in event["payload"]["custom_details"]["why"]
