"""The Slack Web API client the service uses, counting every call by method and outcome.

Every Web API method (chat.postMessage, views.publish, …) goes through `api_call`, so one override
sees them all. A 429 that slack_sdk waits out and retries never reaches `api_call`; the first retry
handler counts it as it passes, so rate limiting shows even when every retry succeeds.
"""

from __future__ import annotations

from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot import metrics

SLACK_RETRIES = 4


class MeteredWebClient(AsyncWebClient):
    """An AsyncWebClient whose calls are counted in carapulse_slack_api_* (bot/metrics.py)."""

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:  # type: ignore[override]
        try:
            response = await super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            _count_error(api_method, exc.response.get("error") if exc.response else None)
            raise
        except (ClientError, TimeoutError, OSError):
            metrics.SLACK_API_CALLS.labels(method=api_method, outcome="unreachable").inc()
            raise
        # With raise_on_error off (not this service's way, but the base class allows it).
        if not response.get("ok", True):
            _count_error(api_method, response.get("error"))
        else:
            metrics.SLACK_API_CALLS.labels(method=api_method, outcome="ok").inc()
        return response


class RateLimitCounter(AsyncRetryHandler):
    """Counts each 429 by method and never retries itself; the rate-limit handler after it does."""

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            metrics.SLACK_API_RATE_LIMITED.labels(method=request.url.rstrip("/").rsplit("/", 1)[-1]).inc()
        return False


def slack_client(token: str | None, base_url: str) -> MeteredWebClient:
    """A Web API client that waits out 429s (Retry-After) and retries 5xx and connection errors.
    Without a token (OAuth installs), Bolt copies it for each request with the team's own."""
    client = MeteredWebClient(token=token, base_url=base_url)
    client.retry_handlers[:0] = [RateLimitCounter()]
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=SLACK_RETRIES))
    client.retry_handlers.append(AsyncServerErrorRetryHandler(max_retry_count=SLACK_RETRIES))
    return client


def _count_error(method: str, error: str | None) -> None:
    metrics.SLACK_API_CALLS.labels(method=method, outcome="error").inc()
    metrics.SLACK_API_ERRORS.labels(method=method, error=error or "unknown").inc()
