"""The Prometheus HTTP API (v1), also as served by Thanos Query.

`PrometheusClient` is the one place that knows the `{"status", "data", "warnings"}` envelope, turns an
`{"status": "error", "errorType", "error"}` answer into a ToolError carrying Prometheus's own sentence,
and adds the Thanos query parameters to the endpoints that read them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import StringConstraints

from tools.common.base import ToolError
from tools.common.http import JsonHttpClient

# A PromQL expression as an action argument; Prometheus itself judges the syntax.
Expr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]


@dataclass(frozen=True)
class ThanosParams:
    """What Thanos Query is asked besides PromQL.

    `partial_response` defaults to off: a verify step that passes on the half of the stores that
    answered is a false pass, so a missing store must fail the query instead. `max_source_resolution`
    "auto" lets Thanos pick downsampled blocks for long ranges (step/5), raw data for short ones.
    """

    dedup: bool = True
    partial_response: bool = False
    max_source_resolution: str = "auto"

    def for_queries(self) -> dict[str, Any]:
        return {**self.for_series(), "max_source_resolution": self.max_source_resolution}

    def for_series(self) -> dict[str, Any]:
        return {"dedup": self.dedup, **self.for_rules()}

    def for_rules(self) -> dict[str, Any]:
        return {"partial_response": self.partial_response}

    def describe(self) -> str:
        return (
            f"dedup {'on' if self.dedup else 'off'}, partial response "
            f"{'allowed' if self.partial_response else 'refused'}, "
            f"max source resolution {self.max_source_resolution}"
        )


ThanosPick = Callable[[ThanosParams], dict[str, Any]]


@dataclass(frozen=True)
class Answer:
    """The `data` of a successful answer, and the warnings Prometheus or Thanos attached to it (a
    partial Thanos answer says which store is missing here)."""

    data: Any
    warnings: list[str] = field(default_factory=list)


class PrometheusClient:
    """`thanos` is None for plain Prometheus; then no Thanos parameter is ever sent."""

    def __init__(self, http: JsonHttpClient, *, thanos: ThanosParams | None = None) -> None:
        self.http = http
        self.thanos = thanos

    @property
    def url(self) -> str:
        return self.http.base_url

    async def close(self) -> None:
        await self.http.close()

    async def query(self, expr: str, *, at: float | None = None) -> Answer:
        params = {"query": expr, "time": at}
        return await self._get("/api/v1/query", params, ThanosParams.for_queries)

    async def query_range(self, expr: str, *, start: float, end: float, step: float) -> Answer:
        params = {"query": expr, "start": start, "end": end, "step": step}
        return await self._get("/api/v1/query_range", params, ThanosParams.for_queries)

    async def series(self, match: Sequence[str], *, start: float, end: float) -> Answer:
        params = {"match[]": list(match), "start": start, "end": end}
        return await self._get("/api/v1/series", params, ThanosParams.for_series)

    async def rules(self, *, rule_type: str | None = None) -> Answer:
        return await self._get("/api/v1/rules", {"type": rule_type}, ThanosParams.for_rules)

    async def alerts(self) -> Answer:
        return await self._get("/api/v1/alerts", {}, ThanosParams.for_rules)

    async def targets(self, *, state: str) -> Answer:
        return await self._get("/api/v1/targets", {"state": state}, ThanosParams.for_rules)

    async def exemplars(self, expr: str, *, start: float, end: float) -> Answer:
        params = {"query": expr, "start": start, "end": end}
        return await self._get("/api/v1/query_exemplars", params, ThanosParams.for_rules)

    async def _get(self, path: str, params: Mapping[str, Any], thanos: ThanosPick) -> Answer:
        """GET one endpoint; `thanos` picks the Thanos parameters that endpoint reads."""
        if self.thanos is not None:
            params = {**params, **thanos(self.thanos)}
        body = await self.http.get(path, params=params)
        call = f"GET {path}"
        if not isinstance(body, dict) or body.get("status") != "success":
            detail = prometheus_error(body) if isinstance(body, dict) else None
            raise ToolError(f"prometheus: {call} failed: {detail or 'no status in the answer'}", call=call)
        if "data" not in body:
            raise ToolError(f"prometheus: {call} answered without data", call=call)
        return Answer(data=body["data"], warnings=[str(w) for w in body.get("warnings") or []])


def prometheus_error(body: Any) -> str | None:
    """Prometheus's own error sentence; the errorType is added when it says more than "bad input"
    (a timeout or an execution error reads differently from a typo in the expression)."""
    if not isinstance(body, dict) or not body.get("error"):
        return None
    error_type = body.get("errorType")
    if error_type and error_type != "bad_data":
        return f"{body['error']} ({error_type})"
    return str(body["error"])
