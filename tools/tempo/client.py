"""Tempo's HTTP API, the calls the tempo actions make."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from tools.common.base import ToolError
from tools.common.http import HttpStatusError, JsonHttpClient
from tools.common.retries import RetryPolicy

JSON = dict[str, Any]


class TempoClient:
    """The Tempo query-frontend calls Carapulse makes; `close()` it on shutdown."""

    def __init__(self, http: JsonHttpClient) -> None:
        self.http = http

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        token: str | None = None,
        tenant: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> Self:
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if tenant:
            headers["X-Scope-OrgID"] = tenant
        http = JsonHttpClient(
            tool="tempo",
            base_url=url.rstrip("/"),
            headers=headers,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            error_message=_error_message,
        )
        return cls(http)

    @property
    def url(self) -> str:
        return self.http.base_url

    async def close(self) -> None:
        await self.http.close()

    async def search(self, query: str, *, start: datetime, end: datetime, limit: int) -> JSON:
        params = {"q": query, "start": int(start.timestamp()), "end": int(end.timestamp()), "limit": limit}
        answer = await self.http.get("/api/search", params=params)
        if not isinstance(answer, dict) or not isinstance(answer.get("traces", []), list):
            raise ToolError(
                "tempo: GET /api/search answered without a list of traces", call="GET /api/search"
            )
        return answer

    async def trace(self, trace_id: str) -> JSON:
        """The trace document from the v2 endpoint, or the v1 one when v2 does not know it."""
        v2 = f"/api/v2/traces/{trace_id}"
        try:
            answer = await self.http.get(v2)
        except HttpStatusError as error:
            if error.status != 404:
                raise
            answer = await self._v1_trace(trace_id, v2)
        if not isinstance(answer, dict):
            raise ToolError(f"tempo: GET {v2} answered without a trace", call=f"GET {v2}")
        return answer

    async def _v1_trace(self, trace_id: str, v2: str) -> Any:
        try:
            return await self.http.get(f"/api/traces/{trace_id}")
        except HttpStatusError as error:
            if error.status == 404:
                raise ToolError(f"tempo: trace {trace_id} not found", call=f"GET {v2}", status=404) from None
            raise


def _error_message(body: Any) -> str | None:
    """Tempo answers errors in plain text (used as is); a gateway in front of it may send JSON."""
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or "") or None
    return None
