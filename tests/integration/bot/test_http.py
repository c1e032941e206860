import logging
from pathlib import Path

import aiohttp
import pytest

from tests.harness import RunningBot, running_bot


async def test_health_and_metrics_answer(bot: RunningBot) -> None:
    """Readiness has its own tests (test_readiness.py)."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{bot.url}/healthz") as health:
            assert (health.status, await health.json()) == (200, {"status": "ok"})
        async with http.get(f"{bot.url}/metrics") as metrics:
            assert metrics.status == 200
            assert "python_info" in await metrics.text()


async def test_without_a_signing_secret_every_slack_request_is_refused(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with running_bot(
        database_url=database_url, tmp_path=tmp_path, overrides={"SLACK_SIGNING_SECRET": ""}
    ) as bot:
        response = await bot.driver.slash_command("help")

    assert (response.status, response.json()) == (401, {"error": "invalid request"})
    refused = [r.getMessage() for r in caplog.records if r.name == "bot.http"]
    assert refused == [
        "refused a Slack request: 401 SLACK_SIGNING_SECRET is not set, so no request can be verified"
    ]
