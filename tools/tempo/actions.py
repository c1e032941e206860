"""Grafana Tempo over its HTTP API: TraceQL search, and one trace summarised as its slowest spans and
the services that spent the most time in it. Read-only.

Traces are fetched from /api/v2/traces (Tempo 2.5+) and, when that answers 404, from /api/traces, so
older Tempo versions work too; only when both say 404 is the trace unknown.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints, field_validator

from tools.common.base import Action, ActionArgs, ActionResult, ArgsT, Effect, ToolError
from tools.tempo.client import TempoClient
from tools.tempo.traces import TraceHit, duration_text, summarise, trace_of

TraceId = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[0-9a-fA-F]{1,32}$")
]


class SearchArgs(ActionArgs):
    query: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2000)]
    since_minutes: Annotated[int, Field(ge=1, le=10080)] = 60
    # None: now. The search covers `since_minutes` before it.
    end: AwareDatetime | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20

    @field_validator("query")
    @classmethod
    def _is_traceql(cls, query: str) -> str:
        if "{" not in query:
            raise ValueError(
                'expected a TraceQL query, e.g. { resource.service.name = "checkout" && status = error }'
            )
        return query


class TraceArgs(ActionArgs):
    trace_id: TraceId
    top: Annotated[int, Field(ge=1, le=20)] = 5


class _TempoAction(Action[ArgsT]):
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 60.0

    def __init__(self, client: TempoClient) -> None:
        self.client = client


class QueryTraces(_TempoAction[SearchArgs]):
    name = "tempo.query_traces"
    description = "Search traces with TraceQL over a recent window; lists the slowest matches first."
    args_model = SearchArgs

    async def run(self, args: SearchArgs) -> ActionResult:
        end = args.end or datetime.now(UTC)
        start = end - timedelta(minutes=args.since_minutes)
        answer = await self.client.search(args.query, start=start, end=end, limit=args.limit)
        hits = sorted(
            (TraceHit.of(hit) for hit in answer.get("traces") or [] if isinstance(hit, dict)),
            key=lambda hit: hit.duration_ms,
            reverse=True,
        )
        window = (
            f"the last {args.since_minutes} min"
            if args.end is None
            else (f"the {args.since_minutes} min before {end.isoformat(timespec='seconds')}")
        )
        if not hits:
            summary = f"no traces match {args.query} in {window}"
        else:
            slowest = "; ".join(
                f"{hit.root_service} {hit.root_name} {duration_text(hit.duration_ms)} ({hit.trace_id[:8]}…)"
                for hit in hits[:3]
            )
            summary = f"{len(hits)} traces match {args.query} in {window}; slowest: {slowest}"
        data = {
            "query": args.query,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "traces": [asdict(hit) for hit in hits],
            "metrics": answer.get("metrics") or {},
        }
        return ActionResult(summary=summary, data=data)


class GetTrace(_TempoAction[TraceArgs]):
    name = "tempo.get_trace"
    description = "Fetch one trace and summarise its slowest spans, the services with most time, and errors."
    args_model = TraceArgs

    async def run(self, args: TraceArgs) -> ActionResult:
        document = trace_of(await self.client.trace(args.trace_id))
        if not document.spans:
            raise ToolError(
                f"tempo: trace {args.trace_id} not found",
                call=f"GET /api/v2/traces/{args.trace_id}",
                status=404,
            )
        trace = summarise(document.spans, top=args.top)
        slowest = ", ".join(
            f"{s['service']} {s['name']} {duration_text(s['duration_ms'])}" for s in trace.slowest[:3]
        )
        time_spent = ", ".join(f"{s['service']} {s['share']:.0%}" for s in trace.service_time[:3])
        shape = f"{trace.span_count} spans in {len(trace.services)} services"
        summary = (
            f"trace {args.trace_id[:8]}…: {trace.root_service} {trace.root_name}, "
            f"{duration_text(trace.duration_ms)}, {shape}; slowest: {slowest}; most time: {time_spent}"
        )
        if trace.errors:
            failed = ", ".join(f"{e['service']} {e['name']} ({e['message']})" for e in trace.errors[:2])
            summary += f"; errors: {failed}"
        if document.partial:
            summary += f"; partial trace: {document.message}"
        data = {
            "trace_id": args.trace_id,
            "partial": document.partial,
            "message": document.message,
            **asdict(trace),
        }
        return ActionResult(summary=summary, data=data)
