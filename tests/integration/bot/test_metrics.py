"""/metrics after a plan ran end to end: the request, Slack, worker, policy and database series.

The registry is the process's own, shared by every test that ran before, so each count is read as
the difference between a scrape before the story and one after it.
"""

from __future__ import annotations

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError

from blocks import ids
from bot.playground.slack.state import BOB, OPS_CHANNEL
from tests.harness import RunningBot

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(bot: RunningBot) -> Samples:
    async with aiohttp.ClientSession() as http, http.get(f"{bot.url}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_a_plan_run_end_to_end_shows_in_the_metrics(bot: RunningBot) -> None:
    before = await scrape(bot)

    await bot.driver.slash_command("scale checkout to 5 in shop")
    await bot.card_text(1, "Awaiting approval")
    await bot.driver.block_action(ids.PLAN_APPROVE, "1", user=BOB)
    await bot.card_text(1, "Succeeded")
    after = await scrape(bot)

    requests = "carapulse_slack_requests_total"
    assert grew(before, after, requests, kind="command", listener="/carapulse", outcome="ok") == 1
    assert grew(before, after, requests, kind="action", listener=ids.PLAN_APPROVE, outcome="ok") == 1
    acks = grew(before, after, "carapulse_slack_ack_seconds_count", kind="command")
    ack_seconds = grew(before, after, "carapulse_slack_ack_seconds_sum", kind="command")
    assert acks == 1
    assert 0 < ack_seconds < 3
    assert (
        grew(before, after, "carapulse_slack_api_calls_total", method="chat.postMessage", outcome="ok") >= 1
    )
    assert grew(before, after, "carapulse_slack_api_calls_total", method="chat.update", outcome="ok") >= 1
    assert grew(before, after, "carapulse_policy_decisions_total", action="plan.create", outcome="allow") == 1
    assert (
        grew(before, after, "carapulse_policy_decisions_total", action="plan.approve", outcome="allow") >= 1
    )
    scaled = {
        "tool": "kubernetes",
        "action": "kubernetes.scale",
        "stage": "act",
        "outcome": "succeeded",
    }
    assert grew(before, after, "carapulse_step_seconds_count", **scaled) == 1
    assert grew(before, after, "carapulse_step_seconds_sum", **scaled) > 0
    assert grew(before, after, "carapulse_executions_total", status="succeeded") == 1
    # Read from this bot's own database at the scrape.
    assert value(after, "carapulse_database_metrics_up") == 1
    assert value(after, "carapulse_plans", status="succeeded") == 1
    assert value(after, "carapulse_plans", status="awaiting_approval") == 0
    assert value(after, "carapulse_queue_depth", queue="executions") == 0
    assert value(after, "carapulse_queue_oldest_age_seconds", queue="executions") == 0
    assert value(after, "carapulse_executions_leased") == 0
    assert value(after, "carapulse_worker_heartbeat_timestamp_seconds") > 0


async def test_slack_errors_and_rate_limits_are_counted_by_method(bot: RunningBot) -> None:
    client = bot.carapulse.bolt.client
    before = await scrape(bot)
    bot.slack.rate_limit_next("chat.postMessage", retry_after=0)
    bot.slack.fail_next("chat.getPermalink", error="channel_not_found", status=200)

    await client.chat_postMessage(channel=OPS_CHANNEL, text="after one 429")
    with pytest.raises(SlackApiError):
        await client.chat_getPermalink(channel=OPS_CHANNEL, message_ts="1.000001")
    after = await scrape(bot)

    # The 429 was waited out and retried: counted once as rate limited, once as a call that went well.
    assert grew(before, after, "carapulse_slack_api_rate_limited_total", method="chat.postMessage") == 1
    assert (
        grew(before, after, "carapulse_slack_api_calls_total", method="chat.postMessage", outcome="ok") == 1
    )
    assert (
        grew(before, after, "carapulse_slack_api_calls_total", method="chat.getPermalink", outcome="error")
        == 1
    )
    errors = grew(
        before,
        after,
        "carapulse_slack_api_errors_total",
        method="chat.getPermalink",
        error="channel_not_found",
    )
    assert errors == 1


async def test_refused_and_unknown_requests_keep_their_labels_bounded(bot: RunningBot) -> None:
    before = await scrape(bot)

    unsigned = await bot.driver.slash_command_request("help").send(secret="wrong")
    unhandled = await bot.driver.block_action("not_an_id_we_render_42", "1")
    after = await scrape(bot)

    assert (unsigned.status, unhandled.status) == (401, 404)
    assert (
        grew(
            before, after, "carapulse_slack_requests_total", kind="refused", listener="401", outcome="refused"
        )
        == 1
    )
    assert (
        grew(
            before,
            after,
            "carapulse_slack_requests_total",
            kind="action",
            listener="other",
            outcome="refused",
        )
        == 1
    )
    assert not any("not_an_id_we_render" in str(labels) for _, labels in after)
