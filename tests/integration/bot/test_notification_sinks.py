"""The webhook sink against a real HTTP endpoint: a 4xx ends the job at once, a 5xx, a 429 or a
refused connection asks for a retry (after Retry-After when given)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from bot.jobs import GiveUp, Job, RetryLater
from bot.notification_rules import NotificationRoutes
from bot.notification_sinks import Sinks
from tests.fakes.webhook_receiver import WebhookReceiver
from tools.common.registry import Registry

DOCUMENT = {"event": "failed", "plan_id": 1, "environment": "prod"}


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as server:
        yield server


def sinks(url: str) -> Sinks:
    routes = NotificationRoutes({}, environments=["prod"], configured={})
    return Sinks(routes=routes, registry=Registry(), smtp={}, sender="", webhook_url=url, webhook_secret="s")


JOB = Job(id=1, team_id="T1", plan_id=1, kind="notify.webhook", key="failed", payload=DOCUMENT, attempts=1)


@pytest.mark.parametrize(
    ("status", "headers", "raised", "seconds"),
    [
        (500, {}, RetryLater, None),
        (503, {"Retry-After": "12"}, RetryLater, 12.0),
        (429, {"Retry-After": "3"}, RetryLater, 3.0),
        (404, {}, GiveUp, None),
        (401, {}, GiveUp, None),
    ],
)
async def test_an_error_answer_is_retried_or_given_up(
    receiver: WebhookReceiver,
    status: int,
    headers: dict[str, str],
    raised: type[Exception],
    seconds: float | None,
) -> None:
    receiver.fail_next(status, {"error": "no"}, headers=headers)

    with pytest.raises(raised) as caught:
        await sinks(receiver.hook_url).webhook(JOB)

    if isinstance(caught.value, RetryLater):
        assert caught.value.seconds == seconds
    assert receiver.deliveries == []


async def test_a_refused_connection_is_retried() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(RetryLater, match="webhook: ClientConnectorError"):
        await sinks(f"http://127.0.0.1:{port}/hook").webhook(JOB)


async def test_an_accepted_delivery_says_so(receiver: WebhookReceiver) -> None:
    assert await sinks(receiver.hook_url).webhook(JOB) == "delivered (200)"
    [delivery] = receiver.deliveries
    assert delivery.headers["X-Carapulse-Event"] == "failed"
