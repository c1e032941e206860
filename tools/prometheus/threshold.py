"""The verify step "this expression stays below (above, at …) a threshold for a while".

It watches forward rather than looking back: after a change, what matters is how the system behaves
from now on, and the samples of the minutes before the change are exactly the ones the change was
meant to fix. So it evaluates the expression with instant queries every `interval_seconds` until
`window_seconds` have passed — the way Argo Rollouts analysis and Flagger metric checks poll — and
every sample of every series must satisfy the comparison each time. It fails at the first sample that
does not, without waiting out the window, so a bad rollout is rolled back as soon as it shows.

An empty answer is a failure (the metric vanished, the selector has a typo, the target is down)
unless `allow_empty` says no data is fine, e.g. for an error counter that only exists once errors do.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from typing import Annotated

from pydantic import Field, StringConstraints

from tools.common.base import Action, ActionArgs, ActionResult, Effect, ToolError
from tools.common.wording import duration_words, utc_clock
from tools.prometheus.client import Expr, PrometheusClient
from tools.prometheus.results import (
    COMPARATORS,
    Comparator,
    Sample,
    format_value,
    samples,
    series_name,
)

MAX_WINDOW_SECONDS = 3600.0
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ThresholdArgs(ActionArgs):
    """`label` names the expression in the sentence a person reads ("error_rate was 0.031 …");
    without it the expression itself is quoted."""

    expr: Expr
    comparator: Comparator
    threshold: Annotated[float, Field(allow_inf_nan=False)]
    window_seconds: Annotated[float, Field(ge=0, le=MAX_WINDOW_SECONDS)] = 60
    interval_seconds: Annotated[float, Field(gt=0, le=300)] = 10
    allow_empty: bool = False
    label: Label | None = None

    @property
    def subject(self) -> str:
        return self.label or self.expr

    @property
    def condition(self) -> str:
        return f"{self.comparator} {format_value(self.threshold)}"


class QueryThreshold(Action[ThresholdArgs]):
    name = "prometheus.query_threshold"
    description = (
        "Verify that every series of a PromQL expression satisfies a comparison with a threshold, "
        "evaluated every interval until the window has passed."
    )
    args_model = ThresholdArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = MAX_WINDOW_SECONDS + 120  # the longest window plus the queries around it

    def __init__(self, client: PrometheusClient) -> None:
        self.client = client

    async def run(self, args: ThresholdArgs) -> ActionResult:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + args.window_seconds
        evaluations = 0
        closest: Sample | None = None
        series_seen = 0
        warnings: list[str] = []
        while True:
            answer = await self.client.query(args.expr)
            found = list(samples(answer.data))
            _judge(args, found)
            evaluations += 1
            series_seen = max(series_seen, _series_count(found))
            closest = _closest(args, [*found, *([closest] if closest else [])])
            warnings.extend(w for w in answer.warnings if w not in warnings)
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.sleep(min(args.interval_seconds, remaining))
        return ActionResult(
            summary=_summary(args, evaluations, series_seen, closest),
            data={
                "expr": args.expr,
                "comparator": args.comparator,
                "threshold": args.threshold,
                "window_seconds": args.window_seconds,
                "evaluations": evaluations,
                "series_count": series_seen,
                "closest": None if closest is None else _described(closest),
                "warnings": warnings,
            },
        )


def _judge(args: ThresholdArgs, found: Sequence[Sample]) -> None:
    """Raise the sentence a person reads when this evaluation breaks the condition."""
    call = "GET /api/v1/query"
    if not found:
        if args.allow_empty:
            return
        message = f"no data for {args.subject} at {utc_clock(time.time())}, needs {args.condition}"
        raise ToolError(message, call=call)
    holds = COMPARATORS[args.comparator]
    several = _series_count(found) > 1
    for sample in found:
        if not holds(sample.value, args.threshold):
            which = f" ({series_name(sample.labels)})" if several else ""
            message = (
                f"{args.subject}{which} was {format_value(sample.value)} at {utc_clock(sample.timestamp)}, "
                f"needs {args.condition}"
            )
            raise ToolError(message, call=call)


def _closest(args: ThresholdArgs, found: Sequence[Sample]) -> Sample | None:
    """The passing sample nearest the threshold: how much margin the check had."""
    finite = [s for s in found if math.isfinite(s.value)]
    return min(finite, key=lambda s: abs(s.value - args.threshold), default=None)


def _series_count(found: Sequence[Sample]) -> int:
    return len({tuple(sorted(s.labels.items())) for s in found})


def _summary(args: ThresholdArgs, evaluations: int, series: int, closest: Sample | None) -> str:
    span = f"for {duration_words(args.window_seconds)}" if args.window_seconds else "now"
    runs = f"{evaluations} evaluation{'s' if evaluations != 1 else ''}"
    if closest is None:
        return f"{args.subject}: no data {span} ({runs}); allowed"
    return (
        f"{args.subject} {args.condition} held {span} ({runs}, {series} series; "
        f"closest {format_value(closest.value)})"
    )


def _described(sample: Sample) -> dict[str, str]:
    return {
        "series": series_name(sample.labels),
        "value": format_value(sample.value),
        "at": utc_clock(sample.timestamp),
    }
