"""The AWS tool's capacity actions, settings and failure handling, driven through boto3 against moto's
server (and, where moto cannot fake a failure, the gateway in front of it)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fakes.aws_gateway import AwsGateway, query_error
from tests.fakes.moto_server import REGION, MotoServer, moto_server
from tests.integration.tools.aws.support import (
    CHECKOUT,
    WEB,
    aws_toolset,
    create_group,
    create_service,
    run,
)
from tests.processes import free_port
from tools.aws import toolset
from tools.common.aws.client import AwsClients
from tools.common.base import ToolError
from tools.common.registry import Registry
from tools.common.toolset import NotConfigured

ROLE_ARN = "arn:aws:iam::123456789012:role/carapulse-operator"


@pytest.fixture
async def tools(moto: MotoServer) -> AsyncIterator[Registry]:
    async with aws_toolset(moto.environ(AWS_MAX_ATTEMPTS="2")) as registry:
        yield registry


@pytest.fixture
def web_group(moto: MotoServer) -> None:
    create_group(moto, REGION)


@pytest.fixture
def checkout_service(moto: MotoServer) -> None:
    create_service(moto)


async def test_autoscaling_scale_reads_the_old_capacity_first_and_rolls_back_to_it(
    tools: Registry, moto: MotoServer, web_group: None
) -> None:
    action = tools.get("aws.autoscaling_scale")
    args = action.parse_args({**WEB, "desired_capacity": 4})

    result = await action.run(args)

    assert result.summary == "web desired capacity 2 → 4"
    assert result.data | {"arn": None} == {
        "group": "web",
        "arn": None,
        "previous_desired_capacity": 2,
        "desired_capacity": 4,
        "min_size": 1,
        "max_size": 5,
    }
    assert result.data["arn"].startswith("arn:aws:autoscaling:us-east-1:")
    assert _desired_capacity(moto, REGION) == 4

    step = action.rollback(args, result)
    assert step is not None
    assert (step.action, step.args) == ("aws.autoscaling_scale", {**WEB, "desired_capacity": 2})
    await run(tools, step.action, step.args)
    assert _desired_capacity(moto, REGION) == 2


async def test_autoscaling_dry_run_reports_the_change_and_changes_nothing(
    tools: Registry, moto: MotoServer, web_group: None
) -> None:
    action = tools.get("aws.autoscaling_scale")

    result = await action.dry_run(action.parse_args({**WEB, "desired_capacity": 5}))

    assert result.summary == "dry run: web desired capacity 2 → 5"
    assert result.data["previous_desired_capacity"] == 2
    assert _desired_capacity(moto, REGION) == 2


@pytest.mark.parametrize("rehearse", [False, True], ids=["run", "dry_run"])
@pytest.mark.parametrize(
    ("desired", "message"),
    [
        (6, "aws: desired capacity 6 is above the maximum 5 of auto scaling group web (min 1, max 5)"),
        (0, "aws: desired capacity 0 is below the minimum 1 of auto scaling group web (min 1, max 5)"),
    ],
)
async def test_a_capacity_outside_the_group_bounds_is_refused_before_any_change(
    tools: Registry, moto: MotoServer, web_group: None, rehearse: bool, desired: int, message: str
) -> None:
    action = tools.get("aws.autoscaling_scale")
    args = action.parse_args({**WEB, "desired_capacity": desired})

    with pytest.raises(ToolError) as raised:
        await (action.dry_run(args) if rehearse else action.run(args))

    assert raised.value.message.startswith(message)
    assert raised.value.message.endswith("change the group's size limits first")
    assert _desired_capacity(moto, REGION) == 2


async def test_an_unknown_auto_scaling_group_is_not_found(tools: Registry) -> None:
    with pytest.raises(ToolError) as raised:
        await run(tools, "aws.autoscaling_scale", {"group": "api", "desired_capacity": 2})

    assert raised.value.message == "aws: auto scaling group api not found in us-east-1"
    assert raised.value.status == 404
    assert raised.value.call == "autoscaling:DescribeAutoScalingGroups"


async def test_ecs_scale_keeps_the_previous_count_for_its_rollback(
    tools: Registry, moto: MotoServer, checkout_service: None
) -> None:
    action = tools.get("aws.ecs_scale")
    args = action.parse_args({**CHECKOUT, "desired_count": 6})

    result = await action.run(args)

    assert result.summary == "ECS service shop/checkout desired count 2 → 6"
    assert result.data["previous_desired_count"] == 2
    assert result.data["arn"] == "arn:aws:ecs:us-east-1:123456789012:service/shop/checkout"
    assert _service(moto)["desiredCount"] == 6
    step = action.rollback(args, result)
    assert step is not None
    assert step.args == {**CHECKOUT, "desired_count": 2}
    assert step.description == "set ECS service shop/checkout back to 2 tasks"
    await run(tools, step.action, step.args)
    assert _service(moto)["desiredCount"] == 2


async def test_ecs_scale_dry_run_changes_nothing(
    tools: Registry, moto: MotoServer, checkout_service: None
) -> None:
    action = tools.get("aws.ecs_scale")

    result = await action.dry_run(action.parse_args({**CHECKOUT, "desired_count": 0}))

    assert result.summary == "dry run: ECS service shop/checkout desired count 2 → 0"
    assert _service(moto)["desiredCount"] == 2


async def test_ecs_restart_forces_a_new_deployment_and_has_no_rollback(
    tools: Registry, moto: MotoServer, checkout_service: None
) -> None:
    before = _service(moto)["deployments"][0]["id"]
    action = tools.get("aws.ecs_restart")
    args = action.parse_args(CHECKOUT)

    result = await action.run(args)

    after = _service(moto)["deployments"][0]["id"]
    assert after != before
    assert result.summary == f"restarted ECS service shop/checkout: new deployment {after}"
    assert result.data["previous_deployment_id"] == before
    assert result.data["task_definition"].endswith(":task-definition/checkout:1")
    assert action.rollback(args, result) is None


async def test_ecs_restart_dry_run_checks_the_service_and_deploys_nothing(
    tools: Registry, moto: MotoServer, checkout_service: None
) -> None:
    before = _service(moto)["deployments"][0]["id"]
    action = tools.get("aws.ecs_restart")

    result = await action.dry_run(action.parse_args(CHECKOUT))

    assert result.summary == "dry run: would restart ECS service shop/checkout (0 of 2 tasks running)"
    assert result.data["deployment_id"] == before
    assert _service(moto)["deployments"][0]["id"] == before


@pytest.mark.parametrize("name", ["aws.ecs_scale", "aws.ecs_restart"])
async def test_an_unknown_ecs_service_is_not_found(
    tools: Registry, checkout_service: None, name: str
) -> None:
    raw = {"cluster": "shop", "service": "cart"} | ({"desired_count": 1} if name == "aws.ecs_scale" else {})

    with pytest.raises(ToolError) as raised:
        await run(tools, name, raw)

    assert raised.value.message == "aws: ECS service shop/cart not found in us-east-1 (MISSING)"
    assert raised.value.status == 404


async def test_an_unknown_ecs_cluster_carries_the_aws_error_code_and_message(tools: Registry) -> None:
    with pytest.raises(ToolError) as raised:
        await run(tools, "aws.ecs_scale", {"cluster": "nope", "service": "checkout", "desired_count": 1})

    assert raised.value.message == (
        "aws: ecs:DescribeServices in us-east-1 failed: ClusterNotFoundException: Cluster not found."
    )
    assert raised.value.call == "ecs:DescribeServices"
    assert raised.value.status == 400


async def test_a_named_environment_uses_its_own_region_and_its_rollback_stays_there(moto: MotoServer) -> None:
    create_group(moto, "eu-west-1")
    environments = json.dumps({"eu": {"region": "eu-west-1"}})
    async with aws_toolset(moto.environ(AWS_ENVIRONMENTS=environments)) as tools:
        action = tools.get("aws.autoscaling_scale")
        args = action.parse_args({**WEB, "desired_capacity": 3, "environment": "eu"})

        result = await action.run(args)
        step = action.rollback(args, result)

        assert _desired_capacity(moto, "eu-west-1") == 3
        assert result.data["environment"] == "eu"
        assert step is not None
        assert step.args == {"environment": "eu", **WEB, "desired_capacity": 2}
        with pytest.raises(ToolError, match="auto scaling group web not found in us-east-1"):
            await run(tools, "aws.autoscaling_scale", {**WEB, "desired_capacity": 3})
        with pytest.raises(ToolError) as raised:
            await run(tools, "aws.autoscaling_scale", {**WEB, "desired_capacity": 3, "environment": "prod"})
        assert raised.value.message == "aws: unknown environment 'prod'; configured: default, eu"


async def test_a_role_is_assumed_through_sts_and_its_credentials_sign_the_calls(moto: MotoServer) -> None:
    create_group(moto, REGION)
    async with AwsGateway(moto.url) as gateway:
        settings = moto.environ(
            AWS_ENDPOINT_URL=gateway.url, AWS_ROLE_ARN=ROLE_ARN, AWS_ROLE_SESSION_NAME="chatops-42"
        )
        async with aws_toolset(settings) as tools:
            await run(tools, "aws.autoscaling_scale", {**WEB, "desired_capacity": 3})

    assume, *calls = gateway.requests
    assert "Action=AssumeRole" in assume.body
    assert "RoleSessionName=chatops-42" in assume.body
    assert "AKIAIOSFODNN7EXAMPLE" in assume.headers["Authorization"]
    assert len(calls) == 2
    for call in calls:
        assert "AKIAIOSFODNN7EXAMPLE" not in call.headers["Authorization"]
        assert "X-Amz-Security-Token" in call.headers
    assert _desired_capacity(moto, REGION) == 3


async def test_throttling_is_retried_by_botocore_and_then_succeeds(moto: MotoServer) -> None:
    create_group(moto, REGION)
    async with AwsGateway(moto.url) as gateway:
        async with aws_toolset(moto.environ(AWS_ENDPOINT_URL=gateway.url, AWS_MAX_ATTEMPTS="3")) as tools:
            gateway.throttle("SetDesiredCapacity", protocol="query", times=2)

            result = await run(tools, "aws.autoscaling_scale", {**WEB, "desired_capacity": 4})

    assert result.data["previous_desired_capacity"] == 2
    assert gateway.operations() == ["DescribeAutoScalingGroups"] + ["SetDesiredCapacity"] * 3
    assert _desired_capacity(moto, REGION) == 4


async def test_throttling_past_the_attempt_budget_is_a_readable_error(
    moto: MotoServer, checkout_service: None
) -> None:
    async with AwsGateway(moto.url) as gateway:
        async with aws_toolset(moto.environ(AWS_ENDPOINT_URL=gateway.url, AWS_MAX_ATTEMPTS="2")) as tools:
            gateway.throttle("UpdateService", protocol="json", times=2)
            with pytest.raises(ToolError) as raised:
                await run(tools, "aws.ecs_restart", CHECKOUT)

    assert (
        raised.value.message
        == "aws: ecs:UpdateService in us-east-1 failed: ThrottlingException: Rate exceeded"
    )
    assert gateway.operations() == ["DescribeServices", "UpdateService", "UpdateService"]


async def test_an_aws_validation_error_on_the_write_keeps_its_code_and_message(moto: MotoServer) -> None:
    create_group(moto, REGION)
    # AWS's own check, for when the group's max size changed between the action's read and its write.
    aws_says = "New SetDesiredCapacity value 4 is above max value 3 for the AutoScalingGroup."
    async with AwsGateway(moto.url) as gateway:
        async with aws_toolset(moto.environ(AWS_ENDPOINT_URL=gateway.url)) as tools:
            gateway.fail_operation(
                "SetDesiredCapacity", 400, query_error("ValidationError", aws_says), times=2
            )
            with pytest.raises(ToolError) as raised:
                await run(tools, "aws.autoscaling_scale", {**WEB, "desired_capacity": 4})

    assert raised.value.message == (
        f"aws: autoscaling:SetDesiredCapacity in us-east-1 failed: ValidationError: {aws_says}"
    )
    assert raised.value.status == 400
    assert gateway.operations() == ["DescribeAutoScalingGroups", "SetDesiredCapacity"], "not retried"


async def test_an_answer_without_an_aws_error_document_is_named_as_such(moto: MotoServer) -> None:
    async with AwsGateway(moto.url) as gateway:
        async with aws_toolset(moto.environ(AWS_ENDPOINT_URL=gateway.url, AWS_MAX_ATTEMPTS="1")) as tools:
            gateway.fail_next(502, "<html><body>Bad gateway</body></html>")
            with pytest.raises(ToolError) as raised:
                await run(tools, "aws.ec2_list", {})

    assert raised.value.message == (
        "aws: ec2:DescribeInstances in us-east-1 failed: HTTP 502: "
        "the answer carried no AWS error (is AWS_ENDPOINT_URL an AWS API?)"
    )
    assert raised.value.status == 502


async def test_an_unreachable_endpoint_is_named_after_its_retries() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    environ = {"AWS_REGION": REGION, "AWS_ENDPOINT_URL": closed, "AWS_MAX_ATTEMPTS": "2"}
    async with aws_toolset(environ | _keys()) as tools:
        with pytest.raises(ToolError) as raised:
            await run(tools, "aws.autoscaling_scale", {**WEB, "desired_capacity": 1})

    assert raised.value.message.startswith("aws: cannot reach autoscaling for us-east-1: ")
    assert closed in raised.value.message
    assert raised.value.call == "autoscaling:DescribeAutoScalingGroups"


@pytest.fixture(scope="module")
def strict_moto() -> Iterator[MotoServer]:
    """moto with its IAM checks on: access keys it never issued are refused as AWS refuses them."""
    with moto_server(check_credentials=True) as server:
        yield server


class TestWithCredentialChecks:
    async def test_unknown_access_keys_are_a_readable_auth_error(self, strict_moto: MotoServer) -> None:
        async with aws_toolset(strict_moto.environ()) as tools:
            with pytest.raises(ToolError) as raised:
                await run(tools, "aws.autoscaling_scale", {**WEB, "desired_capacity": 1})

        assert raised.value.message == (
            "aws: autoscaling:DescribeAutoScalingGroups in us-east-1 failed: InvalidClientTokenId: "
            "The security token included in the request is invalid."
        )
        assert raised.value.status == 403

    async def test_a_role_that_cannot_be_assumed_names_the_role(self, strict_moto: MotoServer) -> None:
        async with aws_toolset(strict_moto.environ(AWS_ROLE_ARN=ROLE_ARN)) as tools:
            with pytest.raises(ToolError) as raised:
                await run(tools, "aws.ecs_scale", {**CHECKOUT, "desired_count": 1})

        assert raised.value.message == (
            f"aws: cannot assume role {ROLE_ARN} for us-east-1: InvalidClientTokenId: "
            "The security token included in the request is invalid."
        )
        assert raised.value.call == "sts:AssumeRole"


async def test_the_toolset_lists_its_actions_and_uses_botocore_standard_retries(moto: MotoServer) -> None:
    built = toolset(moto.environ(AWS_ENVIRONMENTS='{"prod": {"region": "eu-west-1"}}', AWS_MAX_ATTEMPTS="4"))
    try:
        assert built.name == "aws"
        assert built.status == f"enabled, region us-east-1 via {moto.url}, environments prod"
        assert [action.name for action in Registry(built.actions)] == [
            "aws.autoscaling_scale",
            "aws.autoscaling_wait",
            "aws.ecs_scale",
            "aws.ecs_wait",
            "aws.ecs_restart",
            "aws.ec2_list",
            "aws.tags_list",
            "aws.cloudtrail_query",
            "aws.cloudwatch_query",
            "aws.secret_get",
            "aws.secret_rotate",
            "aws.secret_rotation_wait",
        ]
        clients: AwsClients = built.actions[0].aws  # type: ignore[attr-defined]
        assert all(action.aws is clients for action in built.actions)  # type: ignore[attr-defined]
        assert clients.retry_config == {"mode": "standard", "total_max_attempts": 4}
    finally:
        await built.aclose()


def test_the_toolset_is_left_out_without_a_region() -> None:
    with pytest.raises(NotConfigured, match="set AWS_REGION to enable"):
        toolset({"AWS_PROFILE": "ops"})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"AWS_REGION": "Frankfurt"}, "aws: AWS_REGION: String should match pattern"),
        ({"AWS_ROLE_ARN": "operator"}, "aws: AWS_ROLE_ARN: String should match pattern"),
        ({"AWS_ENVIRONMENTS": "{prod: eu}"}, "aws: AWS_ENVIRONMENTS: Invalid JSON"),
        (
            {"AWS_ENVIRONMENTS": '{"prod": {"region": "eu-west-1", "zone": "a"}}'},
            "aws: AWS_ENVIRONMENTS.prod.zone",
        ),
        (
            {"AWS_ENVIRONMENTS": '{"Prod": {}}'},
            "aws: AWS_ENVIRONMENTS.Prod.[key]: String should match pattern",
        ),
        ({"AWS_ENVIRONMENTS": '{"default": {}}'}, "aws: AWS_ENVIRONMENTS: 'default' names the base settings"),
        ({"AWS_MAX_ATTEMPTS": "50"}, "aws: AWS_MAX_ATTEMPTS: Input should be less than or equal to 10"),
        ({"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE"}, "aws: AWS_SECRET_ACCESS_KEY: required with its pair"),
        ({"AWS_ENDPOINT_URL": "localhost:5000"}, "aws: AWS_ENDPOINT_URL: String should match pattern"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ToolError) as raised:
        toolset({"AWS_REGION": REGION} | environ)

    assert raised.value.message.startswith(message)
    assert "\n" not in raised.value.message


def test_a_profile_missing_from_the_aws_config_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.write_text("[profile ops]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    environments = json.dumps({"prod": {"profile": "prod-admin"}})

    assert toolset({"AWS_REGION": REGION, "AWS_PROFILE": "ops"}).status == "enabled, region us-east-1"
    with pytest.raises(ToolError) as raised:
        toolset({"AWS_REGION": REGION, "AWS_PROFILE": "ops", "AWS_ENVIRONMENTS": environments})

    assert raised.value.message == (
        "aws: AWS_ENVIRONMENTS.prod.profile: profile 'prod-admin' is not in the AWS config or "
        "credentials file"
    )


@pytest.mark.parametrize(
    "raw",
    [
        {**WEB, "desired_capacity": 0},
        {**WEB, "desired_capacity": 10000, "environment": "prod-eu_2"},
        {"group": "web workers (blue)", "desired_capacity": 1},
        {"group": "w" * 255, "desired_capacity": 1},
    ],
)
def test_autoscaling_args_accept_aws_names_and_bounds(raw: dict[str, Any], tools_offline: Registry) -> None:
    assert tools_offline.get("aws.autoscaling_scale").parse_args(raw)


@pytest.mark.parametrize(
    "raw",
    [
        {**WEB, "desired_capacity": -1},
        {"group": "web-eu:1", "desired_capacity": 1},
        {"group": "w" * 256, "desired_capacity": 1},
        {"group": "web\n", "desired_capacity": 1},
        {**WEB, "desired_capacity": 10001},
        {**WEB, "desired_capacity": 2, "environment": "Prod"},
        {**WEB, "desired_capacity": 2, "force": True},
        {"group": "", "desired_capacity": 2},
    ],
)
def test_autoscaling_args_reject_bad_names_and_bounds(raw: dict[str, Any], tools_offline: Registry) -> None:
    with pytest.raises(ValidationError):
        tools_offline.get("aws.autoscaling_scale").parse_args(raw)


@pytest.fixture
def tools_offline() -> Iterator[Registry]:
    built = toolset({"AWS_REGION": REGION} | _keys())
    yield Registry(built.actions)
    for close in built.closers:
        close()


def _keys() -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "fake-secret-key"}


def _desired_capacity(moto: MotoServer, region: str) -> int:
    groups = moto.client("autoscaling", region_name=region).describe_auto_scaling_groups(
        AutoScalingGroupNames=["web"]
    )
    return int(groups["AutoScalingGroups"][0]["DesiredCapacity"])


def _service(moto: MotoServer) -> dict[str, Any]:
    answer = moto.client("ecs").describe_services(cluster="shop", services=["checkout"])
    return dict(answer["services"][0])
