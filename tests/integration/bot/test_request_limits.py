"""One body cap (MAX_REQUEST_BYTES) on every endpoint that reads a body, and the 503 every endpoint
that starts work answers once the intake closes for shutdown; the probes keep answering."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from bot.playground.slack.bodies import FORM
from tests.hooks import post
from tests.integration.api.conftest import ApiBot, started_api
from tests.integration.incidents.conftest import INCIDENT_SETTINGS

CAP = 20_000
Send = Callable[[ApiBot, bytes], Awaitable[tuple[int, str]]]


@pytest.fixture
async def api(database_url: str, tmp_path: Path) -> AsyncIterator[ApiBot]:
    async with started_api(database_url, tmp_path, **INCIDENT_SETTINGS, MAX_REQUEST_BYTES=str(CAP)) as client:
        yield client


async def _slack(api: ApiBot, body: bytes) -> tuple[int, str]:
    answer = await api.bot.driver.raw_request(body, FORM).send()
    return answer.status, answer.body


async def _hook(api: ApiBot, body: bytes) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        answer = await post(api.bot.url, "alertmanager", None, raw=body, session=session)
    return answer.status, answer.text


async def _api(api: ApiBot, body: bytes) -> tuple[int, str]:
    answer = await api.call("POST", "/api/v1/plans", data=body, headers={"Content-Type": "application/json"})
    message = answer.body["message"] if isinstance(answer.body, dict) else answer.body
    return answer.status, message


ENDPOINTS = pytest.mark.parametrize("send", [_slack, _hook, _api], ids=["slack", "hooks", "api"])


@ENDPOINTS
async def test_a_body_over_the_cap_is_refused_413_with_the_reason(api: ApiBot, send: Send) -> None:
    status, reason = await send(api, b"{" + b" " * CAP + b"}")
    assert (status, reason) == (413, f"body is larger than {CAP} bytes")


@ENDPOINTS
async def test_a_body_at_the_cap_is_read(api: ApiBot, send: Send) -> None:
    # Read, then refused for what it says (not JSON Slack would send, not a webhook, not a plan).
    status, reason = await send(api, b"{" + b" " * (CAP - 2) + b"}")
    assert status != 413, reason


@ENDPOINTS
async def test_once_shutdown_begins_work_is_refused_503_with_retry_after(api: ApiBot, send: Send) -> None:
    api.bot.carapulse.intake.close()
    status, reason = await send(api, b"{}")
    assert status == 503
    assert "shutting down" in reason
    async with aiohttp.ClientSession() as session:
        for probe in ("/healthz", "/metrics"):
            async with session.get(api.bot.url + probe) as response:
                assert response.status == 200
        async with session.post(api.bot.url + "/hooks/alertmanager") as response:
            assert response.headers["Retry-After"] == "5"


async def test_the_api_refuses_in_its_own_error_shape_while_shutting_down(api: ApiBot) -> None:
    api.bot.carapulse.intake.close()
    answer = await api.call("GET", "/api/v1/plans")
    assert answer.status == 503
    assert answer.body["error"] == "shutting_down"
