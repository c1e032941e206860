"""The AWS tool's reads (EC2, tagged resources, CloudWatch, CloudTrail) and its Secrets Manager
actions, through boto3 against moto's server; CloudTrail's LookupEvents, which moto lacks, is answered
by the gateway in front of it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fakes.aws_gateway import AwsGateway, TrailEvent
from tests.fakes.moto_server import MotoServer
from tests.integration.tools.aws.support import (
    aws_toolset,
    create_rotatable_secret,
    current_secret_version,
    run,
)
from tools.aws import toolset
from tools.common.base import RiskHint, ToolError
from tools.common.redaction import Redactor
from tools.common.registry import Registry

SECRET_VALUE = "correct-horse-battery-staple"


@pytest.fixture
async def tools(moto: MotoServer) -> AsyncIterator[Registry]:
    async with aws_toolset(moto.environ(AWS_MAX_ATTEMPTS="2")) as registry:
        yield registry


@pytest.fixture
def instances(moto: MotoServer) -> dict[str, list[str]]:
    """Two checkout instances (one stopped) and one cart instance, each in its own reservation."""
    ec2 = moto.client("ec2")
    ids: dict[str, list[str]] = {"checkout": [], "cart": []}
    for service in ("checkout", "checkout", "cart"):
        answer = ec2.run_instances(
            ImageId="ami-12345678",
            InstanceType="t3.small",
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "service", "Value": service}]}],
        )
        ids[service].append(answer["Instances"][0]["InstanceId"])
    ec2.stop_instances(InstanceIds=[ids["checkout"][1]])
    return ids


@pytest.fixture
def database_secret(moto: MotoServer) -> str:
    return create_rotatable_secret(moto, "shop/db-password", SECRET_VALUE)


async def test_ec2_list_applies_ec2_filters(tools: Registry, instances: dict[str, list[str]]) -> None:
    result = await run(tools, "aws.ec2_list", {"filters": {"tag:service": ["checkout"]}})

    assert result.summary == "2 EC2 instances in us-east-1: 1 running, 1 stopped"
    assert sorted(i["id"] for i in result.data["instances"]) == sorted(instances["checkout"])
    first = result.data["instances"][0]
    assert first["type"] == "t3.small"
    assert first["tags"] == {"service": "checkout"}
    assert datetime.fromisoformat(first["launch_time"]) <= datetime.now(UTC)
    assert json.loads(json.dumps(result.data)) == result.data


async def test_ec2_list_by_id_and_state(tools: Registry, instances: dict[str, list[str]]) -> None:
    result = await run(
        tools,
        "aws.ec2_list",
        {"instance_ids": instances["checkout"], "filters": {"instance-state-name": ["running"]}},
    )

    assert [i["id"] for i in result.data["instances"]] == [instances["checkout"][0]]


async def test_ec2_list_says_when_the_limit_cut_the_list(
    tools: Registry, instances: dict[str, list[str]]
) -> None:
    result = await run(tools, "aws.ec2_list", {"limit": 2})

    assert result.data["count"] == 2
    assert result.data["truncated"] is True
    assert result.summary.endswith("(more not shown)")


async def test_tags_list_finds_the_arns_a_change_would_touch(
    tools: Registry, instances: dict[str, list[str]], database_secret: str
) -> None:
    result = await run(tools, "aws.tags_list", {"tags": {"service": ["checkout"]}})

    instance_arns = {f"arn:aws:ec2:us-east-1:123456789012:instance/{i}" for i in instances["checkout"]}
    assert set(result.data["arns"]) == instance_arns | {database_secret}
    assert result.summary == "3 resources tagged service=checkout in us-east-1"
    assert all(resource["tags"]["service"] == "checkout" for resource in result.data["resources"])


async def test_tags_list_narrows_by_resource_type_and_matches_any_value(
    tools: Registry, instances: dict[str, list[str]], database_secret: str
) -> None:
    result = await run(tools, "aws.tags_list", {"tags": {"service": []}, "resource_types": ["ec2:instance"]})

    assert result.data["count"] == 3
    assert database_secret not in result.data["arns"]
    assert result.summary == "3 resources tagged service=* in us-east-1"


async def test_cloudwatch_query_returns_each_series_oldest_first(tools: Registry, moto: MotoServer) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    points = [(now - timedelta(minutes=m), float(100 + m)) for m in (9, 6, 3)]
    moto.client("cloudwatch").put_metric_data(
        Namespace="Shop",
        MetricData=[
            {
                "MetricName": "Latency",
                "Dimensions": [{"Name": "Service", "Value": "checkout"}],
                "Timestamp": at,
                "Value": value,
            }
            for at, value in points
        ],
    )
    queries = [
        {"id": "latency", "namespace": "Shop", "metric": "Latency", "dimensions": {"Service": "checkout"}},
        {"id": "errors", "namespace": "Shop", "metric": "Errors", "stat": "Sum", "label": "5xx"},
    ]

    result = await run(tools, "aws.cloudwatch_query", {"queries": queries, "minutes": 30})

    latency, errors = result.data["results"]
    assert latency["values"] == [109.0, 106.0, 103.0]
    # Each value sits in the one-minute period bucket that holds its point.
    buckets = [datetime.fromisoformat(t) for t in latency["timestamps"]]
    assert all(
        at - timedelta(minutes=1) < bucket <= at for bucket, (at, _) in zip(buckets, points, strict=True)
    )
    assert errors == {"id": "errors", "label": "5xx", "status": "Complete", "timestamps": [], "values": []}
    assert result.summary == f"{latency['label']}: latest 103 (3 points); 5xx: no data"


@pytest.mark.parametrize(
    "raw",
    [
        {"queries": []},
        {"queries": [{"id": "Latency", "namespace": "Shop", "metric": "Latency"}]},
        {"queries": [{"id": "a", "namespace": "Shop"}]},
        {"queries": [{"id": "a", "namespace": "Shop", "metric": "Latency", "expression": "SUM(METRICS())"}]},
        {"queries": [{"id": "a", "expression": "x"}, {"id": "a", "expression": "y"}]},
        {"queries": [{"id": "a", "namespace": "Shop", "metric": "Latency", "stat": "Median"}]},
        {"queries": [{"id": "a", "expression": "x"}], "period_seconds": 90},
        {"queries": [{"id": "a", "expression": "x"}], "minutes": 0},
    ],
)
def test_cloudwatch_query_args_reject_what_the_api_would(raw: dict[str, Any], tools: Registry) -> None:
    with pytest.raises(ValidationError):
        tools.get("aws.cloudwatch_query").parse_args(raw)


async def test_cloudtrail_query_finds_events_by_attribute_and_leaves_request_parameters_out(
    moto: MotoServer,
) -> None:
    now = datetime.now(UTC)
    async with AwsGateway(moto.url) as gateway:
        gateway.trail = [
            _event("SetDesiredCapacity", "alice", now - timedelta(minutes=5), error="ValidationError"),
            _event("SetDesiredCapacity", "bob", now - timedelta(minutes=2)),
            _event("UpdateService", "alice", now - timedelta(minutes=1)),
            _event("SetDesiredCapacity", "carol", now - timedelta(hours=3)),
        ]
        built = toolset(moto.environ(AWS_ENDPOINT_URL=gateway.url))
        try:
            result = await run(
                Registry(built.actions),
                "aws.cloudtrail_query",
                {"attribute": "EventName", "value": "SetDesiredCapacity", "minutes": 60},
            )
        finally:
            await built.aclose()

    assert [event["username"] for event in result.data["events"]] == ["bob", "alice"]
    latest_time = result.data["events"][0]["time"]
    assert result.summary == (
        "2 CloudTrail events with EventName=SetDesiredCapacity in the last 60 min; "
        f"latest SetDesiredCapacity by bob at {latest_time}"
    )
    older = result.data["events"][1]
    assert older["error_code"] == "ValidationError"
    assert older["source_ip"] == "203.0.113.7"
    assert older["user_arn"] == "arn:aws:iam::123456789012:user/alice"
    assert older["resources"] == [{"type": "AWS::AutoScaling::AutoScalingGroup", "name": "web"}]
    assert "requestParameters" not in json.dumps(result.data)
    request = gateway.requests[-1].body
    assert request["LookupAttributes"] == [
        {"AttributeKey": "EventName", "AttributeValue": "SetDesiredCapacity"}
    ]


async def test_cloudtrail_query_follows_pages_up_to_its_limit(moto: MotoServer) -> None:
    now = datetime.now(UTC)
    async with AwsGateway(moto.url) as gateway:
        gateway.trail = [_event("DescribeInstances", "ci", now - timedelta(seconds=s)) for s in range(120)]
        built = toolset(moto.environ(AWS_ENDPOINT_URL=gateway.url))
        try:
            result = await run(Registry(built.actions), "aws.cloudtrail_query", {"limit": 70})
        finally:
            await built.aclose()

    assert result.data["count"] == 70
    assert result.data["truncated"] is True
    assert len(gateway.requests) == 2
    assert gateway.requests[1].body["NextToken"] == "50"


def test_cloudtrail_query_needs_attribute_and_value_together(tools: Registry) -> None:
    with pytest.raises(ValidationError, match="attribute and value go together"):
        tools.get("aws.cloudtrail_query").parse_args({"attribute": "Username"})


async def test_secret_get_shows_metadata_and_never_the_value(tools: Registry, database_secret: str) -> None:
    result = await run(tools, "aws.secret_get", {"secret_id": "shop/db-password"})

    assert result.data["arn"] == database_secret
    assert result.data["rotation_enabled"] is True
    assert result.data["rotation_rules"] == {"AutomaticallyAfterDays": 30}
    assert result.data["tags"] == {"service": "checkout"}
    assert ["AWSCURRENT"] in result.data["versions"].values()
    assert result.summary.startswith("secret shop/db-password (rotation on, last rotated ")
    assert Redactor().redact(result.summary) == result.summary
    assert SECRET_VALUE not in result.model_dump_json()


async def test_an_unknown_secret_is_a_readable_not_found(tools: Registry) -> None:
    with pytest.raises(ToolError) as raised:
        await run(tools, "aws.secret_get", {"secret_id": "shop/nope"})

    assert raised.value.message == (
        "aws: secretsmanager:DescribeSecret in us-east-1 failed: ResourceNotFoundException: "
        "Secrets Manager can't find the specified secret."
    )
    assert raised.value.call == "secretsmanager:DescribeSecret"


async def test_secret_rotate_is_high_risk_and_moves_the_current_version(
    tools: Registry, moto: MotoServer, database_secret: str
) -> None:
    action = tools.get("aws.secret_rotate")
    args = action.parse_args({"secret_id": database_secret})
    before = _current_version(moto)

    result = await action.run(args)

    assert action.risk is RiskHint.HIGH
    assert result.data["previous_version_id"] == before
    assert result.data["version_id"] == _current_version(moto) != before
    assert (
        result.summary
        == f"started rotation of secret shop/db-password, new version {result.data['version_id']}"
    )
    assert Redactor().redact(result.summary) == result.summary
    assert action.rollback(args, result) is None
    assert SECRET_VALUE not in result.model_dump_json()


async def test_secret_rotate_dry_run_checks_rotation_and_changes_nothing(
    tools: Registry, moto: MotoServer, database_secret: str
) -> None:
    before = _current_version(moto)
    action = tools.get("aws.secret_rotate")

    result = await action.dry_run(action.parse_args({"secret_id": "shop/db-password"}))

    assert result.summary == "dry run: would rotate secret shop/db-password with its rotation settings"
    assert result.data["version_id"] == before == _current_version(moto)


@pytest.mark.parametrize("rehearse", [False, True], ids=["run", "dry_run"])
async def test_a_pinned_rotation_is_refused_once_another_version_became_current(
    tools: Registry, moto: MotoServer, database_secret: str, rehearse: bool
) -> None:
    pinned = _current_version(moto)
    moto.client("secretsmanager").rotate_secret(SecretId="shop/db-password")
    moved = _current_version(moto)
    action = tools.get("aws.secret_rotate")
    args = action.parse_args({"secret_id": "shop/db-password", "expected_version_id": pinned})

    with pytest.raises(ToolError) as raised:
        await (action.dry_run(args) if rehearse else action.run(args))

    assert raised.value.message == (
        "the current version (AWSCURRENT) of secret shop/db-password changed since the plan was made "
        f"(pinned {pinned}, now {moved}); make a new plan"
    )
    assert _current_version(moto) == moved


async def test_a_pinned_rotation_runs_while_its_version_is_current(
    tools: Registry, moto: MotoServer, database_secret: str
) -> None:
    pinned = _current_version(moto)

    result = await run(
        tools, "aws.secret_rotate", {"secret_id": "shop/db-password", "expected_version_id": pinned}
    )

    assert result.data["previous_version_id"] == pinned != _current_version(moto)


@pytest.mark.parametrize("rehearse", [False, True], ids=["run", "dry_run"])
async def test_a_secret_without_rotation_is_not_rotated(
    tools: Registry, moto: MotoServer, rehearse: bool
) -> None:
    moto.client("secretsmanager").create_secret(Name="shop/api-key", SecretString=SECRET_VALUE)
    action = tools.get("aws.secret_rotate")
    args = action.parse_args({"secret_id": "shop/api-key"})

    with pytest.raises(ToolError) as raised:
        await (action.dry_run(args) if rehearse else action.run(args))

    assert raised.value.message == (
        "aws: secret shop/api-key has no rotation configured; set up rotation in Secrets Manager first"
    )
    versions = moto.client("secretsmanager").list_secret_version_ids(SecretId="shop/api-key")["Versions"]
    assert len(versions) == 1


async def test_a_read_is_its_own_dry_run(tools: Registry, instances: dict[str, list[str]]) -> None:
    action = tools.get("aws.ec2_list")
    args = action.parse_args({"filters": {"tag:service": ["cart"]}})

    assert await action.dry_run(args) == await action.run(args)


def _event(name: str, user: str, at: datetime, *, error: str | None = None) -> TrailEvent:
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "arn": f"arn:aws:iam::123456789012:user/{user}",
            "userName": user,
        },
        "eventTime": at.isoformat(),
        "eventSource": "autoscaling.amazonaws.com",
        "eventName": name,
        "sourceIPAddress": "203.0.113.7",
        "requestParameters": {"autoScalingGroupName": "web", "desiredCapacity": 4},
    }
    if error:
        record |= {"errorCode": error, "errorMessage": "New SetDesiredCapacity value 9 is above max value 5"}
    return TrailEvent(
        name=name,
        username=user,
        source="autoscaling.amazonaws.com",
        time=at,
        resources=[("AWS::AutoScaling::AutoScalingGroup", "web")],
        record=record,
    )


def _current_version(moto: MotoServer) -> str:
    return current_secret_version(moto, "shop/db-password")
