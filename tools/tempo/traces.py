"""Tempo's answers read into what an incident thread needs: search hits, and a trace boiled down to its
slowest spans and the services that spent the most time in it. Pure, no I/O.

A trace arrives as OTLP JSON in any of the shapes Tempo has served: /api/v2/traces wraps it as
{"trace": {"resourceSpans": [...]}}, /api/traces answers {"batches": [...]}; spans sit under
`scopeSpans` (or the older `instrumentationLibrarySpans`), and ids are base64 (protobuf JSON) or hex.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]

_HEX_ID = re.compile(r"^(?:[0-9a-fA-F]{16}|[0-9a-fA-F]{32})$")
_ERROR_CODES = ("STATUS_CODE_ERROR", 2)
_KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


@dataclass(frozen=True)
class Span:
    span_id: str
    parent_id: str
    service: str
    name: str
    kind: str
    start_ns: int
    end_ns: int
    error: bool
    status_message: str

    @property
    def duration_ns(self) -> int:
        return max(self.end_ns - self.start_ns, 0)


@dataclass(frozen=True)
class TraceDocument:
    spans: list[Span]
    # Tempo marks a trace it cut short (size limit, filter, pruning) as PARTIAL and says why.
    partial: bool
    message: str


def trace_of(document: JSON) -> TraceDocument:
    trace = document.get("trace") if isinstance(document.get("trace"), dict) else document
    batches = trace.get("resourceSpans") or trace.get("batches") or []
    spans = [
        _span(span, service=_service(batch))
        for batch in batches
        for scope in batch.get("scopeSpans") or batch.get("instrumentationLibrarySpans") or []
        for span in scope.get("spans") or []
    ]
    partial = document.get("status") in ("PARTIAL", 1)
    return TraceDocument(spans=spans, partial=partial, message=str(document.get("message") or ""))


@dataclass(frozen=True)
class TraceSummary:
    span_count: int
    services: list[str]
    duration_ms: float
    root_service: str
    root_name: str
    slowest: list[JSON]
    service_time: list[JSON]
    errors: list[JSON]


def summarise(spans: list[Span], *, top: int) -> TraceSummary:
    """The `top` slowest spans, and services ranked by self time (a span's duration minus the time
    its children cover), so a caller waiting on a slow dependency is not blamed for its latency."""
    ids = {span.span_id for span in spans}
    roots = sorted((s for s in spans if s.parent_id not in ids), key=lambda s: s.start_ns)
    root = roots[0] if roots else min(spans, key=lambda s: s.start_ns)
    self_time = _self_times(spans)
    by_service: dict[str, int] = defaultdict(int)
    for span in spans:
        by_service[span.service] += self_time[span.span_id]
    total = sum(by_service.values()) or 1
    slowest = sorted(spans, key=lambda s: s.duration_ns, reverse=True)[:top]
    return TraceSummary(
        span_count=len(spans),
        services=sorted(by_service),
        duration_ms=_ms(max(s.end_ns for s in spans) - min(s.start_ns for s in spans)),
        root_service=root.service,
        root_name=root.name,
        slowest=[_span_data(span) for span in slowest],
        service_time=[
            {"service": service, "self_ms": _ms(ns), "share": round(ns / total, 3)}
            for service, ns in sorted(by_service.items(), key=lambda item: item[1], reverse=True)[:top]
        ],
        errors=[_span_data(span) | {"message": span.status_message} for span in spans if span.error][:top],
    )


@dataclass(frozen=True)
class TraceHit:
    """One trace in a search answer."""

    trace_id: str
    root_service: str
    root_name: str
    start: str
    duration_ms: int
    matched_spans: int

    @classmethod
    def of(cls, hit: JSON) -> TraceHit:
        span_sets = hit.get("spanSets") or ([hit["spanSet"]] if hit.get("spanSet") else [])
        return cls(
            trace_id=str(hit.get("traceID", "")),
            root_service=str(hit.get("rootServiceName", "")),
            root_name=str(hit.get("rootTraceName", "")),
            start=_iso(int(hit.get("startTimeUnixNano") or 0)),
            # Tempo omits durationMs for traces shorter than a millisecond.
            duration_ms=int(hit.get("durationMs") or 0),
            matched_spans=sum(int(s.get("matched") or 0) for s in span_sets),
        )


def hex_id(value: str) -> str:
    """A trace or span id as hex, whether Tempo sent hex or protobuf JSON's base64."""
    if _HEX_ID.match(value):
        return value.lower()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return value
    return raw.hex() if raw else value


def duration_text(milliseconds: float) -> str:
    return f"{milliseconds:.0f}ms" if milliseconds < 1000 else f"{milliseconds / 1000:.1f}s"


def _span(span: JSON, *, service: str) -> Span:
    status = span.get("status") or {}
    kind = span.get("kind", 0)
    return Span(
        span_id=hex_id(str(span.get("spanId", ""))),
        parent_id=hex_id(str(span.get("parentSpanId") or "")),
        service=service,
        name=str(span.get("name", "")),
        kind=_KINDS.get(kind, "") if isinstance(kind, int) else str(kind).removeprefix("SPAN_KIND_").lower(),
        start_ns=int(span.get("startTimeUnixNano") or 0),
        end_ns=int(span.get("endTimeUnixNano") or 0),
        error=status.get("code") in _ERROR_CODES,
        status_message=str(status.get("message", "")),
    )


def _service(batch: JSON) -> str:
    for attribute in (batch.get("resource") or {}).get("attributes") or []:
        if attribute.get("key") == "service.name":
            return str((attribute.get("value") or {}).get("stringValue", "unknown"))
    return "unknown"


def _self_times(spans: list[Span]) -> dict[str, int]:
    children: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        children[span.parent_id].append(span)
    return {span.span_id: span.duration_ns - _covered(span, children.get(span.span_id, [])) for span in spans}


def _covered(parent: Span, children: list[Span]) -> int:
    """Nanoseconds of the parent's interval covered by at least one child (overlaps counted once)."""
    covered, reach = 0, parent.start_ns
    for child in sorted(children, key=lambda s: s.start_ns):
        start, end = max(child.start_ns, reach), min(child.end_ns, parent.end_ns)
        if end > start:
            covered += end - start
            reach = end
    return covered


def _span_data(span: Span) -> JSON:
    return {
        "span_id": span.span_id,
        "service": span.service,
        "name": span.name,
        "kind": span.kind,
        "duration_ms": _ms(span.duration_ns),
        "error": span.error,
    }


def _ms(nanoseconds: int) -> float:
    return round(nanoseconds / 1_000_000, 3)


def _iso(nanoseconds: int) -> str:
    moment = datetime.fromtimestamp(nanoseconds / 1e9, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
