"""A fake Tempo query-frontend: TraceQL search (a small subset of the language, with Tempo's parse
errors for the rest) and trace by id over /api/v2/traces and /api/traces, in Tempo's JSON: protobuf
JSON with base64 ids and nanosecond strings. Errors are plain text, as Tempo sends them.

`legacy=True` serves only the v1 trace endpoint, like Tempo before 2.5.
"""

from __future__ import annotations

import base64
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from tests.fakes.http_stall import StallingHttpServer

JSON = dict[str, Any]
_CONDITION = re.compile(r'^(?P<field>[A-Za-z_][\w.:]*)\s*(?P<op>!=|>=|<=|=|>|<)\s*(?P<value>"[^"]*"|[\w.]+)$')
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}
_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000}


@dataclass(frozen=True)
class FakeSpan:
    span_id: str  # 16 hex digits
    parent_id: str | None
    service: str
    name: str
    start_ms: float  # after the trace's start
    duration_ms: float
    kind: str = "SPAN_KIND_INTERNAL"
    error: str | None = None  # the status message of a failed span
    attributes: dict[str, str | int] = field(default_factory=dict)


@dataclass
class FakeTrace:
    trace_id: str  # 32 hex digits
    start: datetime
    spans: list[FakeSpan]

    def start_ns(self, span: FakeSpan) -> int:
        return int(self.start.timestamp() * 1e9) + int(span.start_ms * 1e6)

    def end_ns(self, span: FakeSpan) -> int:
        return self.start_ns(span) + int(span.duration_ms * 1e6)


class TraceQLError(Exception):
    pass


class FakeTempo(StallingHttpServer):
    def __init__(self, *, legacy: bool = False, token: str | None = None, tenant: str | None = None) -> None:
        super().__init__()
        self.legacy = legacy
        self.token = token
        self.tenant = tenant
        self.traces: dict[str, FakeTrace] = {}
        self.partial: dict[str, str] = {}

    def add_trace(self, trace_id: str, start: datetime, spans: list[FakeSpan]) -> None:
        self.traces[trace_id] = FakeTrace(trace_id, start, spans)

    def routes(self) -> list[web.RouteDef]:
        routes = [
            self.route("GET", "/api/search", self._search),
            self.route("GET", "/api/traces/{id}", self._trace_v1),
        ]
        if not self.legacy:
            routes.append(self.route("GET", "/api/v2/traces/{id}", self._trace_v2))
        return routes

    def check_auth(self, request: web.Request) -> web.StreamResponse | None:
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(status=401, text="Unauthorized\n")
        if self.tenant and request.headers.get("X-Scope-OrgID") != self.tenant:
            return web.Response(status=401, text="no org id\n")
        return None

    async def _search(self, request: web.Request) -> web.Response:
        try:
            matches = _matcher(request.query.get("q", "{}"))
        except TraceQLError as error:
            return web.Response(status=400, text=f"invalid TraceQL query: {error}\n")
        start, end = int(request.query.get("start", "0")), int(request.query.get("end", "32503680000"))
        limit = int(request.query.get("limit", "20"))
        hits = []
        for trace in sorted(self.traces.values(), key=lambda t: t.start, reverse=True):
            matched = [span for span in trace.spans if matches(trace, span)]
            if matched and start <= trace.start.timestamp() <= end:
                hits.append(_hit(trace, matched))
        return web.json_response(
            {
                "traces": hits[:limit],
                "metrics": {"inspectedBytes": "48213", "completedJobs": 1, "totalJobs": 1},
            }
        )

    async def _trace_v2(self, request: web.Request) -> web.Response:
        trace = self._trace(request)
        if trace is None:
            return web.Response(status=404, text="trace not found\n")
        body: JSON = {"trace": {"resourceSpans": _batches(trace)}, "metrics": {"inspectedBytes": "9127"}}
        if trace.trace_id in self.partial:
            body |= {"status": "PARTIAL", "message": self.partial[trace.trace_id]}
        return web.json_response(body)

    async def _trace_v1(self, request: web.Request) -> web.Response:
        trace = self._trace(request)
        if trace is None:
            return web.Response(status=404, text="trace not found\n")
        return web.json_response({"batches": _batches(trace)})

    def _trace(self, request: web.Request) -> FakeTrace | None:
        # Tempo left-pads short ids with zeros.
        return self.traces.get(request.match_info["id"].lower().rjust(32, "0"))


def _matcher(query: str) -> Callable[[FakeTrace, FakeSpan], bool]:
    """`{ }` or `{ cond && cond … }` where cond compares name, status, duration, kind,
    resource.service.name or span.<attribute>; anything else is a parse error."""
    text = query.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise TraceQLError(f"parse error at line 1, col {len(text) + 1}: syntax error: unexpected $end")
    inner = text[1:-1].strip()
    if not inner:
        return lambda trace, span: True
    conditions = []
    for part in inner.split("&&"):
        found = _CONDITION.match(part.strip())
        if found is None:
            column = text.find(part.strip()) + 1
            raise TraceQLError(f"parse error at line 1, col {column}: syntax error: unexpected IDENTIFIER")
        conditions.append((found["field"], _OPERATORS[found["op"]], found["value"].strip('"')))
    return lambda trace, span: all(
        _compare(_field(trace, span, name), compare, value) for name, compare, value in conditions
    )


def _field(trace: FakeTrace, span: FakeSpan, name: str) -> Any:
    if name in ("resource.service.name", ".service.name"):
        return span.service
    if name == "name":
        return span.name
    if name == "status":
        return "error" if span.error else "unset"
    if name == "kind":
        return span.kind.removeprefix("SPAN_KIND_").lower()
    if name == "duration":
        return int(span.duration_ms * 1e6)
    return span.attributes.get(name.removeprefix("span.").removeprefix("."))


def _compare(actual: Any, compare: Callable[[Any, Any], bool], value: str) -> bool:
    duration = re.fullmatch(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m)", value)
    expected: Any = float(duration[1]) * _UNITS[duration[2]] if duration else value
    if isinstance(actual, int) and not duration and value.isdigit():
        expected = int(value)
    try:
        return actual is not None and compare(actual, expected)
    except TypeError:
        return False


def _hit(trace: FakeTrace, matched: list[FakeSpan]) -> JSON:
    root = next(span for span in trace.spans if span.parent_id is None)
    duration_ms = int(max(trace.end_ns(s) for s in trace.spans) - trace.start_ns(root)) // 1_000_000
    span_set = {
        "spans": [
            {
                "spanID": span.span_id,
                "name": span.name,
                "startTimeUnixNano": str(trace.start_ns(span)),
                "durationNanos": str(int(span.duration_ms * 1e6)),
            }
            for span in matched[:3]
        ],
        "matched": len(matched),
    }
    hit: JSON = {
        "traceID": trace.trace_id.lstrip("0"),
        "rootServiceName": root.service,
        "rootTraceName": root.name,
        "startTimeUnixNano": str(trace.start_ns(root)),
        "spanSet": span_set,
        "spanSets": [span_set],
    }
    if duration_ms:  # protobuf JSON leaves out a zero
        hit["durationMs"] = duration_ms
    return hit


def _batches(trace: FakeTrace) -> list[JSON]:
    """One ResourceSpans per service, in protobuf JSON: base64 ids, nanoseconds as strings."""
    by_service: dict[str, list[JSON]] = {}
    for span in trace.spans:
        by_service.setdefault(span.service, []).append(_otlp_span(trace, span))
    return [
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
            "scopeSpans": [{"scope": {"name": "io.opentelemetry.http"}, "spans": spans}],
        }
        for service, spans in by_service.items()
    ]


def _otlp_span(trace: FakeTrace, span: FakeSpan) -> JSON:
    document: JSON = {
        "traceId": _b64(trace.trace_id),
        "spanId": _b64(span.span_id),
        "name": span.name,
        "kind": span.kind,
        "startTimeUnixNano": str(trace.start_ns(span)),
        "endTimeUnixNano": str(trace.end_ns(span)),
        "attributes": [
            {
                "key": key,
                "value": {"intValue": str(value)} if isinstance(value, int) else {"stringValue": value},
            }
            for key, value in span.attributes.items()
        ],
        "status": {"code": "STATUS_CODE_ERROR", "message": span.error} if span.error else {},
    }
    if span.parent_id is not None:
        document["parentSpanId"] = _b64(span.parent_id)
    return document


def _b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()
