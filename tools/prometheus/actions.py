"""Prometheus (or Thanos Query) reads: instant and range queries, rules, alerts, targets, series,
exemplars, and the threshold check that verify steps use (in `tools.prometheus.threshold`).

Every action is a read. Results go into `data` in Prometheus's own shapes (values stay strings, so NaN
and ±Inf survive JSON), capped at `limit` series so one broad selector cannot flood a plan's record.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AwareDatetime, Field, StringConstraints

from tools.common.base import Action, ActionArgs, ActionResult, ArgsT, Effect
from tools.common.wording import count, duration_words, listing
from tools.prometheus.client import Answer, Expr, PrometheusClient
from tools.prometheus.results import format_value, samples, series_name, value_range

Limit = Annotated[int, Field(ge=1, le=1000)]
WindowSeconds = Annotated[float, Field(gt=0, le=31 * 86400)]


Selector = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
# Range queries aim at this many points per series when no step is given: enough for a trend,
# far below Prometheus's limit of 11,000.
RANGE_POINTS = 250
T = TypeVar("T")


class QueryArgs(ActionArgs):
    expr: Expr
    time: AwareDatetime | None = None
    limit: Limit = 100


class RangeQueryArgs(ActionArgs):
    """The range ends at `end` (default now) and reaches `window_seconds` back. Each kept series
    carries every point, so fewer series are kept by default than for an instant query."""

    expr: Expr
    window_seconds: WindowSeconds = 3600
    end: AwareDatetime | None = None
    step_seconds: Annotated[float, Field(gt=0, le=86400)] | None = None
    limit: Limit = 20


class RulesArgs(ActionArgs):
    type: Literal["alert", "record"] | None = None
    group: str | None = None


class AlertsArgs(ActionArgs):
    state: Literal["firing", "pending"] | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    limit: Limit = 100


class TargetsArgs(ActionArgs):
    state: Literal["active", "dropped", "any"] = "active"
    job: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    limit: Limit = 500


class SeriesArgs(ActionArgs):
    match: Annotated[list[Selector], Field(min_length=1, max_length=20)]
    window_seconds: WindowSeconds = 3600
    limit: Limit = 100


class ExemplarsArgs(ActionArgs):
    expr: Expr
    window_seconds: WindowSeconds = 3600
    limit: Limit = 100


class _PrometheusAction(Action[ArgsT]):
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 60.0

    def __init__(self, client: PrometheusClient) -> None:
        self.client = client


class Query(_PrometheusAction[QueryArgs]):
    name = "prometheus.query"
    description = "Evaluate a PromQL expression at one instant (now, or `time`)."
    args_model = QueryArgs

    async def run(self, args: QueryArgs) -> ActionResult:
        at = args.time.timestamp() if args.time else None
        answer = await self.client.query(args.expr, at=at)
        kind, result = answer.data["resultType"], answer.data["result"]
        if kind in ("scalar", "string"):
            summary = f"{args.expr} = {result[1]}"
            return _result(summary, answer, expr=args.expr, result_type=kind, result=result)
        kept, truncated = _limited(result, args.limit)
        shown = [_series_line(series) for series in result]
        summary = f"{args.expr}: {_series(len(result))}" + (f": {listing(shown)}" if shown else "")
        return _result(
            summary,
            answer,
            expr=args.expr,
            result_type=kind,
            result=kept,
            series_count=len(result),
            truncated=truncated,
        )


class QueryRange(_PrometheusAction[RangeQueryArgs]):
    name = "prometheus.query_range"
    description = "Evaluate a PromQL expression over a time range, one point per step."
    args_model = RangeQueryArgs

    async def run(self, args: RangeQueryArgs) -> ActionResult:
        end = args.end.timestamp() if args.end else time.time()
        step = args.step_seconds or round(max(1.0, args.window_seconds / RANGE_POINTS), 3)
        answer = await self.client.query_range(args.expr, start=end - args.window_seconds, end=end, step=step)
        found = list(samples(answer.data))
        result = answer.data["result"]
        kept, truncated = _limited(result, args.limit)
        summary = (
            f"{args.expr}: {_series(len(result))}, {count(len(found), 'sample')} over "
            f"{duration_words(args.window_seconds)} (step {duration_words(step)})"
        )
        spread = value_range(found)
        return _result(
            summary + (f", {spread}" if spread else ""),
            answer,
            expr=args.expr,
            start=end - args.window_seconds,
            end=end,
            step=step,
            result_type=answer.data["resultType"],
            result=kept,
            series_count=len(result),
            truncated=truncated,
        )


class ListRules(_PrometheusAction[RulesArgs]):
    name = "prometheus.list_rules"
    description = "List alerting and recording rules with their health and firing state."
    args_model = RulesArgs

    async def run(self, args: RulesArgs) -> ActionResult:
        answer = await self.client.rules(rule_type=args.type)
        groups = [
            {
                "name": group["name"],
                "file": group.get("file", ""),
                "rules": [_rule(rule) for rule in group.get("rules", [])],
            }
            for group in answer.data.get("groups", [])
            if args.group is None or group["name"] == args.group
        ]
        rules = [rule for group in groups for rule in group["rules"]]
        summary = f"{count(len(rules), 'rule')} in {count(len(groups), 'group')}"
        for state in ("firing", "pending"):
            names = [rule["name"] for rule in rules if rule.get("state") == state]
            summary += f"; {state}: {listing(names)}" if names else ""
        broken = [f"{rule['name']} ({rule['last_error']})" for rule in rules if rule["health"] == "err"]
        summary += f"; failing: {listing(broken)}" if broken else ""
        return _result(summary, answer, groups=groups)


class ListAlerts(_PrometheusAction[AlertsArgs]):
    name = "prometheus.list_alerts"
    description = "List the alerts Prometheus's rules currently fire (or hold pending)."
    args_model = AlertsArgs

    async def run(self, args: AlertsArgs) -> ActionResult:
        answer = await self.client.alerts()
        alerts = [
            alert
            for alert in answer.data.get("alerts", [])
            if (args.state is None or alert.get("state") == args.state)
            and args.labels.items() <= alert.get("labels", {}).items()
        ]
        kept, truncated = _limited(alerts, args.limit)
        shown = [f"{a['labels'].get('alertname', series_name(a['labels']))} ({a['state']})" for a in alerts]
        summary = count(len(alerts), "alert") + (f": {listing(shown)}" if shown else "")
        return _result(summary, answer, alerts=kept, alert_count=len(alerts), truncated=truncated)


class ListTargets(_PrometheusAction[TargetsArgs]):
    name = "prometheus.list_targets"
    description = "List the targets Prometheus scrapes, with their labels and health."
    args_model = TargetsArgs

    async def run(self, args: TargetsArgs) -> ActionResult:
        answer = await self.client.targets(state=args.state)
        found = [
            _target(target)
            for group in ("activeTargets", "droppedTargets")
            for target in answer.data.get(group) or []
        ]
        targets = [t for t in found if args.job is None or t["job"] == args.job]
        kept, truncated = _limited(targets, args.limit)
        down = [f"{t['job']} {t['instance']}" for t in targets if t["health"] == "down"]
        summary = count(len(targets), "target") + (f", down: {listing(down)}" if down else "")
        return _result(summary, answer, targets=kept, target_count=len(targets), truncated=truncated)


class ListSeries(_PrometheusAction[SeriesArgs]):
    name = "prometheus.list_series"
    description = "List the series that match selectors over a recent window."
    args_model = SeriesArgs

    async def run(self, args: SeriesArgs) -> ActionResult:
        end = time.time()
        answer = await self.client.series(args.match, start=end - args.window_seconds, end=end)
        kept, truncated = _limited(answer.data, args.limit)
        shown = [series_name(labels) for labels in answer.data]
        summary = f"{_series(len(answer.data))} match {' or '.join(args.match)}"
        summary += f": {listing(shown)}" if shown else ""
        return _result(summary, answer, series=kept, series_count=len(answer.data), truncated=truncated)


class QueryExemplars(_PrometheusAction[ExemplarsArgs]):
    name = "prometheus.query_exemplars"
    description = "Find exemplars (e.g. trace ids) attached to a PromQL expression's series."
    args_model = ExemplarsArgs

    async def run(self, args: ExemplarsArgs) -> ActionResult:
        end = time.time()
        answer = await self.client.exemplars(args.expr, start=end - args.window_seconds, end=end)
        kept, truncated = _limited(answer.data, args.limit)
        found = [exemplar for series in answer.data for exemplar in series.get("exemplars", [])]
        shown = [series_name(exemplar.get("labels", {})) for exemplar in found]
        summary = f"{args.expr}: {count(len(found), 'exemplar')} on {_series(len(answer.data))}"
        summary += f": {listing(shown)}" if shown else ""
        return _result(summary, answer, series=kept, exemplar_count=len(found), truncated=truncated)


def _result(summary: str, answer: Answer, **data: Any) -> ActionResult:
    if answer.warnings:
        summary += f" (warning: {answer.warnings[0]})"
    return ActionResult(summary=summary, data={**data, "warnings": answer.warnings})


def _rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A rule without its alert instances (a busy rule carries hundreds); their count stays."""
    return {
        "type": rule.get("type", ""),
        "name": rule["name"],
        "query": rule.get("query", ""),
        "health": rule.get("health", "unknown"),
        "last_error": rule.get("lastError", ""),
        "state": rule.get("state"),
        "labels": rule.get("labels", {}),
        "active_alerts": len(rule.get("alerts") or []),
    }


def _series_line(series: Mapping[str, Any]) -> str:
    """`name{…} = 1` for an instant vector; a range selector (`up[5m]`) answers points per series."""
    if "value" in series:
        return f"{series_name(series['metric'])} = {format_value(float(series['value'][1]))}"
    return f"{series_name(series['metric'])}: {count(len(series.get('values', [])), 'point')}"


def _target(target: Mapping[str, Any]) -> dict[str, Any]:
    """A target as its labels after relabelling name it (a dropped one only has its discovered labels)."""
    labels = dict(target.get("labels") or target.get("discoveredLabels") or {})
    return {
        "job": labels.get("job", target.get("scrapePool", "")),
        "instance": labels.get("instance", labels.get("__address__", "")),
        "health": target.get("health", "unknown" if "labels" in target else "dropped"),
        "labels": {k: v for k, v in labels.items() if not k.startswith("__")},
        "scrape_url": target.get("scrapeUrl", ""),
        "last_error": target.get("lastError", ""),
    }


def _limited(items: Sequence[T], limit: int) -> tuple[list[T], bool]:
    return list(items[:limit]), len(items) > limit


def _series(n: int) -> str:
    return count(n, "series", "series")
