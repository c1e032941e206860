"""The log lines of a plan run end to end, as JSON: each parses, the request path's carry the
request id, the worker's the plan and execution ids, and none holds a secret the bot knows."""

from __future__ import annotations

import io
import json

from blocks import ids
from bot import logs
from bot.playground.slack.state import BOB
from bot.playground.slack.web_api import DEFAULT_TOKEN
from tests.harness import SIGNING_SECRET, RunningBot


async def test_a_plan_run_logs_json_lines_with_its_ids_and_no_secret(bot: RunningBot) -> None:
    stream = io.StringIO()
    secrets = logs.secrets_of(bot.carapulse.settings.model_dump())
    logs.configure(level="DEBUG", form="json", secrets=secrets, stream=stream)

    await bot.driver.slash_command("scale checkout to 5 in shop")
    await bot.card_text(1, "Awaiting approval")
    await bot.driver.block_action(ids.PLAN_APPROVE, "1", user=BOB)
    await bot.card_text(1, "Succeeded")

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    worker = [line for line in lines if line["logger"] == "bot.worker"]
    assert worker and all((line["plan_id"], line["execution_id"]) == (1, 1) for line in worker)
    assert any(line["message"] == "execution 1 ended succeeded" for line in worker)
    # slack_bolt and slack_sdk log at DEBUG what they send and receive, headers and tokens included.
    requests = {line["request_id"] for line in lines if "request_id" in line}
    assert len(requests) >= 2
    assert any(line["logger"].startswith("slack_bolt") and "request_id" in line for line in lines)
    text = stream.getvalue()
    assert DEFAULT_TOKEN not in text
    assert SIGNING_SECRET not in text
