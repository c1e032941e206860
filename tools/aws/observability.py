"""What happened on AWS: CloudTrail management events (who changed what) and CloudWatch metric data,
the evidence a verify step or an incident thread reads.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from tools.aws.action import AwsAction, AwsArgs, environment_args, jsonable
from tools.common.base import ActionResult, Effect

LookupKey = Literal[
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
]
MetricId = Annotated[str, StringConstraints(pattern=r"^[a-z][A-Za-z0-9_]{0,254}$")]
Statistic = Annotated[
    str,
    StringConstraints(pattern=r"^(Average|Sum|Minimum|Maximum|SampleCount|(p|tm|wm|tc|ts)\d{1,2}(\.\d+)?)$"),
]
Text = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
Minutes = Annotated[int, Field(ge=1)]
_MAX_PAGES = 50


class QueryEventsArgs(AwsArgs):
    attribute: LookupKey | None = None
    value: Text | None = None
    minutes: Annotated[Minutes, Field(le=90 * 24 * 60)] = 60
    limit: Annotated[int, Field(ge=1, le=500)] = 50

    @model_validator(mode="after")
    def _attribute_with_value(self) -> Self:
        if (self.attribute is None) != (self.value is None):
            raise ValueError("attribute and value go together")
        return self


class MetricQuery(BaseModel):
    """One CloudWatch query: a metric (namespace, metric, dimensions, stat) or a metric math expression."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: MetricId
    namespace: Text | None = None
    metric: Text | None = None
    dimensions: dict[Text, Text] = Field(default_factory=dict, max_length=30)
    stat: Statistic = "Average"
    expression: Text | None = None
    label: Text | None = None

    @model_validator(mode="after")
    def _metric_or_expression(self) -> Self:
        is_metric = self.namespace is not None and self.metric is not None
        if is_metric == (self.expression is not None):
            raise ValueError("give either namespace and metric, or expression")
        return self


class QueryMetricsArgs(AwsArgs):
    queries: list[MetricQuery] = Field(min_length=1, max_length=20)
    minutes: Annotated[Minutes, Field(le=15 * 24 * 60)] = 60
    period_seconds: Annotated[int, Field(ge=1, le=86400)] = 60

    @field_validator("queries")
    @classmethod
    def _unique_ids(cls, queries: list[MetricQuery]) -> list[MetricQuery]:
        ids = [query.id for query in queries]
        if len(set(ids)) != len(ids):
            raise ValueError("query ids must be unique")
        return queries

    @field_validator("period_seconds")
    @classmethod
    def _cloudwatch_period(cls, period: int) -> int:
        if period not in (1, 5, 10, 30) and period % 60:
            raise ValueError("period must be 1, 5, 10, 30 or a multiple of 60 seconds")
        return period


class QueryCloudTrail(AwsAction[QueryEventsArgs]):
    name = "aws.cloudtrail_query"
    description = "Look up recent CloudTrail management events, optionally by name, user or resource."
    args_model = QueryEventsArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 90.0

    async def run(self, args: QueryEventsArgs) -> ActionResult:
        end = datetime.now(UTC)
        params: dict[str, Any] = {"StartTime": end - timedelta(minutes=args.minutes), "EndTime": end}
        if args.attribute is not None:
            params["LookupAttributes"] = [{"AttributeKey": args.attribute, "AttributeValue": args.value}]
        answer = await self.aws.paginate(
            args.environment, "cloudtrail", "LookupEvents", limit=args.limit, **params
        )
        events = [_event(event) for event in answer.get("Events", [])]
        matching = f" with {args.attribute}={args.value}" if args.attribute else ""
        latest = (
            f"; latest {events[0]['name']} by {events[0]['username']} at {events[0]['time']}"
            if events
            else ""
        )
        return ActionResult(
            summary=f"{len(events)} CloudTrail events{matching} in the last {args.minutes} min{latest}",
            data={
                **environment_args(args),
                "events": events,
                "count": len(events),
                "truncated": "NextToken" in answer,
            },
        )


class QueryCloudWatch(AwsAction[QueryMetricsArgs]):
    name = "aws.cloudwatch_query"
    description = "Fetch CloudWatch metric data (metrics or metric math) for the last minutes."
    args_model = QueryMetricsArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 90.0

    async def run(self, args: QueryMetricsArgs) -> ActionResult:
        end = datetime.now(UTC)
        answer = await self.aws.paginate(
            args.environment,
            "cloudwatch",
            "GetMetricData",
            # Each page holds one entry per query (up to 100,800 points per page in all).
            limit=len(args.queries) * _MAX_PAGES,
            MetricDataQueries=[_query(query, args.period_seconds) for query in args.queries],
            StartTime=end - timedelta(minutes=args.minutes),
            EndTime=end,
            ScanBy="TimestampAscending",
        )
        series = _merge_pages(answer.get("MetricDataResults", []))
        results = [series.get(query.id, _empty(query.id)) for query in args.queries]
        return ActionResult(
            summary="; ".join(_describe(result) for result in results),
            data={
                **environment_args(args),
                "results": results,
                "messages": answer.get("Messages", []),
                "truncated": "NextToken" in answer,
            },
        )


def _event(event: dict[str, Any]) -> dict[str, Any]:
    """The fields a person reads, plus a few from the raw record; request parameters are left out
    because they may carry what the caller sent (CloudTrail hides only some secret fields)."""
    detail = _parse(event.get("CloudTrailEvent"))
    return jsonable(
        {
            "id": event.get("EventId"),
            "time": event.get("EventTime"),
            "name": event.get("EventName"),
            "source": event.get("EventSource"),
            "username": event.get("Username"),
            "read_only": event.get("ReadOnly") == "true",
            "resources": [
                {"type": resource.get("ResourceType"), "name": resource.get("ResourceName")}
                for resource in event.get("Resources", [])
            ],
            "user_arn": detail.get("userIdentity", {}).get("arn"),
            "source_ip": detail.get("sourceIPAddress"),
            "error_code": detail.get("errorCode"),
            "error_message": detail.get("errorMessage"),
        }
    )


def _parse(record: str | None) -> dict[str, Any]:
    try:
        parsed = json.loads(record or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _query(query: MetricQuery, period: int) -> dict[str, Any]:
    built: dict[str, Any] = {"Id": query.id, "ReturnData": True}
    if query.label:
        built["Label"] = query.label
    if query.expression is not None:
        return {**built, "Expression": query.expression, "Period": period}
    metric = {
        "Namespace": query.namespace,
        "MetricName": query.metric,
        "Dimensions": [{"Name": name, "Value": value} for name, value in query.dimensions.items()],
    }
    return {**built, "MetricStat": {"Metric": metric, "Period": period, "Stat": query.stat}}


def _merge_pages(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """One series per query id: a long query comes back in several pages that repeat the id."""
    series: dict[str, dict[str, Any]] = {}
    for page in results:
        merged = series.setdefault(page["Id"], _empty(page["Id"]) | {"label": page.get("Label", page["Id"])})
        merged["timestamps"].extend(jsonable(page.get("Timestamps", [])))
        merged["values"].extend(float(value) for value in page.get("Values", []))
        merged["status"] = page.get("StatusCode", merged["status"])
    return series


def _empty(query_id: str) -> dict[str, Any]:
    return {"id": query_id, "label": query_id, "status": "Complete", "timestamps": [], "values": []}


def _describe(result: dict[str, Any]) -> str:
    if not result["values"]:
        return f"{result['label']}: no data"
    partial = " (partial)" if result["status"] == "PartialData" else ""
    return f"{result['label']}: latest {result['values'][-1]:g} ({len(result['values'])} points){partial}"
