"""One JSON-over-HTTP client for every REST tool (Argo CD, GitHub, GitLab, Grafana, PagerDuty, …).

It owns what each of them would otherwise repeat: a lazily opened aiohttp session (so a toolset can be
built outside the event loop), auth headers, a per-request timeout, bounded jittered retries of
transient failures for requests that are safe to repeat, and turning every failure — refused
connection, 4xx/5xx with the API's own error message, a body that is not JSON — into a ToolError a
person can act on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from multidict import CIMultiDict
from tenacity import (
    RetryCallState,
)
from tenacity.wait import wait_base
from yarl import URL

from tools.common.base import ToolError
from tools.common.retries import RetryPolicy

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

ErrorMessage = Callable[[Any], str | None]


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    body: Any
    text: str


class HttpStatusError(ToolError):
    """An HTTP error answer; `body` is the decoded error document for callers that branch on it."""

    def __init__(
        self,
        message: str,
        *,
        call: str,
        status: int,
        body: Any,
        retry_after: float | None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, call=call, status=status)
        self.body = body
        self.retry_after = retry_after
        self.headers = CIMultiDict(headers or {})


@dataclass
class JsonHttpClient:
    """`tool` names the system in messages ("argocd"); `error_message` pulls the API's own error
    sentence out of an error body (each API nests it differently)."""

    tool: str
    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    error_message: ErrorMessage | None = None
    verify_tls: bool = True
    # Statuses worth another try. An API whose 503 means "your query timed out" (Prometheus) drops
    # 503 here, so a heavy query is not run four times.
    retry_statuses: frozenset[int] = TRANSIENT_STATUSES
    _session: aiohttp.ClientSession | None = field(default=None, init=False, repr=False)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(self, path: str, **kwargs: Any) -> Any:
        return (await self.request("GET", path, **kwargs)).body

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        repeatable: bool | None = None,
        expect_json: bool = True,
    ) -> HttpResponse:
        """Send one request. GETs are retried on transient failures; a write only when the caller
        says it is `repeatable` (it sets an absolute value), never a blind retry of a create."""
        call = f"{method} {path}"
        retry_ok = method in SAFE_METHODS if repeatable is None else repeatable
        retrying = self.retry.retrying(
            self._is_transient, repeatable=retry_ok, wait=_WaitHonouringRetryAfter(self.retry)
        )
        return await retrying(
            self._send, method, path, call, params, json_body, data, headers or {}, expect_json
        )

    async def _send(
        self,
        method: str,
        path: str,
        call: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        data: Any,
        headers: Mapping[str, str],
        expect_json: bool,
    ) -> HttpResponse:
        session = self._open()
        url = self.base_url.rstrip("/") + "/" + path.lstrip("/")
        try:
            async with session.request(
                method,
                url,
                params=_query(params),
                json=json_body,
                data=data,
                headers=headers,
                ssl=None if self.verify_tls else False,
            ) as response:
                text = await response.text()
                # Case-insensitive: HTTP/2 servers send lowercase names.
                status, response_headers = response.status, CIMultiDict(response.headers)
        except TimeoutError:
            raise ToolError(f"{self.tool}: {call} timed out after {self.timeout:g}s", call=call) from None
        except aiohttp.ClientError as exc:
            where = _without_credentials(self.base_url)
            raise _Unreachable(f"{self.tool}: cannot reach {where}: {exc}", call=call) from None
        body = _decode(text)
        if status >= 400:
            raise self._status_error(call, status, body, text, response_headers)
        if expect_json and text.strip() and body is _NOT_JSON:
            raise ToolError(f"{self.tool}: {call} answered with something that is not JSON", call=call)
        return HttpResponse(status, response_headers, None if body is _NOT_JSON else body, text)

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers={"Accept": "application/json", **self.headers},
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            )
        return self._session

    def _status_error(
        self, call: str, status: int, body: Any, text: str, headers: Mapping[str, str]
    ) -> HttpStatusError:
        detail = None
        if body is not _NOT_JSON and self.error_message is not None:
            try:
                detail = self.error_message(body)
            except (KeyError, TypeError, IndexError, AttributeError):
                detail = None
        detail = detail or _first_line(text) or "no details"
        message = f"{self.tool}: {call} failed: {_STATUS_WORDS.get(status, f'HTTP {status}')}: {detail}"
        return HttpStatusError(
            message,
            call=call,
            status=status,
            body=None if body is _NOT_JSON else body,
            retry_after=_retry_after(headers),
            headers=headers,
        )

    def _is_transient(self, error: BaseException) -> bool:
        if isinstance(error, _Unreachable):
            return True
        return isinstance(error, HttpStatusError) and error.status in self.retry_statuses


class _Unreachable(ToolError):
    """A connection failure: transient, so safe requests are tried again."""


_NOT_JSON = object()

_STATUS_WORDS = {
    400: "bad request",
    401: "not authenticated (check the token)",
    403: "permission denied",
    404: "not found",
    409: "conflict",
    422: "rejected",
    429: "rate limited",
}


def _decode(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


def _query(params: Mapping[str, Any] | None) -> list[tuple[str, str]] | None:
    """aiohttp wants strings; lists become repeated keys (`?match[]=a&match[]=b`), None is dropped,
    booleans are spelt the way REST APIs expect."""
    if params is None:
        return None
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if item is None:
                continue
            pairs.append((key, ("true" if item else "false") if isinstance(item, bool) else str(item)))
    return pairs


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait, from Retry-After or the IETF RateLimit-Reset header (PagerDuty sends the
    latter); both count seconds from now."""
    value = headers.get("Retry-After") or headers.get("RateLimit-Reset")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _without_credentials(url: str) -> str:
    """A URL fit for an error message: `https://user:secret@host` loses its user and password."""
    return str(URL(url).with_user(None))


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else ""


class _WaitHonouringRetryAfter(wait_base):
    """Jittered backoff, except that a 429 or 503 carrying Retry-After waits what the server asked
    (capped by `max_wait`, so a hostile header cannot park a step)."""

    def __init__(self, retry: RetryPolicy) -> None:
        self._backoff = retry.backoff()
        self._max_wait = retry.max_wait

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, HttpStatusError) and error.retry_after is not None:
            return min(error.retry_after, self._max_wait)
        return self._backoff(retry_state)
