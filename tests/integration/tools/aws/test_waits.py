"""The AWS waits (aws.autoscaling_wait, aws.ecs_wait, aws.secret_rotation_wait) against moto's server,
through the gateway in front of it: moto's own APIs put instances Unhealthy or in Standby, start ECS
tasks and move a secret's staging labels as a rotation function would, and the gateway writes in what
moto never reports (instances Pending, a rollout COMPLETED or FAILED, an old deployment still
draining)."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fakes.aws_gateway import AwsGateway
from tests.fakes.moto_server import FAKE_KEYS, REGION, MotoServer
from tests.integration.tools.aws.support import (
    CHECKOUT,
    WEB,
    create_group,
    create_rotatable_secret,
    create_service,
    current_secret_version,
    run,
)
from tools.aws import actions
from tools.common.aws.client import AwsClients
from tools.common.aws.environments import DEFAULT_ENVIRONMENT, AwsConnection, AwsEnvironment, StaticKeys
from tools.common.base import ActionResult, Effect, ToolError
from tools.common.redaction import Redactor
from tools.common.registry import Registry

POLL_SECONDS = 0.02
DESCRIBE_GROUPS, DESCRIBE_SERVICES = "DescribeAutoScalingGroups", "DescribeServices"
AUTOSCALING_NS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"
CIRCUIT_BREAKER = "ECS deployment circuit breaker: tasks failed to start."


@pytest.fixture
async def gateway(moto: MotoServer) -> AsyncIterator[AwsGateway]:
    async with AwsGateway(moto.url) as gateway:
        yield gateway


@pytest.fixture
def tools(gateway: AwsGateway) -> Iterator[Registry]:
    """The tool's actions as `actions()` lists them, through the gateway, waits re-reading every 20 ms."""
    clients = AwsClients(
        {DEFAULT_ENVIRONMENT: AwsEnvironment(region=REGION)},
        AwsConnection(
            endpoint_url=gateway.url,
            static_keys=StaticKeys(FAKE_KEYS["AWS_ACCESS_KEY_ID"], FAKE_KEYS["AWS_SECRET_ACCESS_KEY"]),
            max_attempts=2,
        ),
    )
    yield Registry(actions(clients, poll_seconds=POLL_SECONDS))
    clients.close()


async def test_autoscaling_wait_after_a_scale_passes_at_once_with_the_counts_it_read(
    tools: Registry, gateway: AwsGateway, moto: MotoServer
) -> None:
    create_group(moto)
    await run(tools, "aws.autoscaling_scale", {**WEB, "desired_capacity": 4})

    result = await run(tools, "aws.autoscaling_wait", {**WEB, "desired_capacity": 4})

    assert result.summary == "web: 4 of 4 instances in service"
    assert result.data | {"arn": None} == {
        "group": "web",
        "arn": None,
        "desired_capacity": 4,
        "in_service": 4,
        "instances": 4,
        "not_in_service": {},
    }
    assert result.data["arn"].startswith("arn:aws:autoscaling:us-east-1:")
    assert gateway.operations() == [DESCRIBE_GROUPS, "SetDesiredCapacity", DESCRIBE_GROUPS]


async def test_autoscaling_wait_passes_once_pending_instances_are_in_service(
    tools: Registry, gateway: AwsGateway, moto: MotoServer
) -> None:
    create_group(moto, DesiredCapacity=4)
    gateway.rewrite(DESCRIBE_GROUPS, _instances(_pending(2)))

    result = await _changed_after_first_poll(
        tools,
        gateway,
        "aws.autoscaling_wait",
        {**WEB, "desired_capacity": 4},
        DESCRIBE_GROUPS,
        lambda: gateway.rewrite(DESCRIBE_GROUPS, None),
    )

    assert result.summary == "web: 4 of 4 instances in service"
    assert gateway.operations().count(DESCRIBE_GROUPS) >= 2


async def test_autoscaling_wait_passes_once_an_unhealthy_instance_is_healthy_again(
    tools: Registry, gateway: AwsGateway, moto: MotoServer
) -> None:
    create_group(moto)
    autoscaling = moto.client("autoscaling")
    instance = _instance_ids(moto)[0]
    autoscaling.set_instance_health(InstanceId=instance, HealthStatus="Unhealthy")

    result = await _changed_after_first_poll(
        tools,
        gateway,
        "aws.autoscaling_wait",
        {**WEB, "desired_capacity": 2},
        DESCRIBE_GROUPS,
        lambda: autoscaling.set_instance_health(InstanceId=instance, HealthStatus="Healthy"),
    )

    assert result.data["in_service"] == 2
    assert gateway.operations().count(DESCRIBE_GROUPS) >= 2


def _standby_and_unhealthy(moto: MotoServer, gateway: AwsGateway) -> None:
    create_group(moto, DesiredCapacity=3)
    autoscaling = moto.client("autoscaling")
    standby, unhealthy, _ = _instance_ids(moto)
    # Taking an instance out lowers the desired capacity to 2, so no replacement starts.
    autoscaling.enter_standby(
        AutoScalingGroupName="web", InstanceIds=[standby], ShouldDecrementDesiredCapacity=True
    )
    autoscaling.set_instance_health(InstanceId=unhealthy, HealthStatus="Unhealthy")


def _pending_forever(moto: MotoServer, gateway: AwsGateway) -> None:
    create_group(moto)
    gateway.rewrite(DESCRIBE_GROUPS, _instances(_pending(2)))


def _never_launched(moto: MotoServer, gateway: AwsGateway) -> None:
    create_group(moto)
    gateway.rewrite(DESCRIBE_GROUPS, _instances(lambda instances: instances.remove(instances[0])))


def _protected_from_scale_in(moto: MotoServer, gateway: AwsGateway) -> None:
    create_group(moto, DesiredCapacity=3, NewInstancesProtectedFromScaleIn=True)
    moto.client("autoscaling").set_desired_capacity(AutoScalingGroupName="web", DesiredCapacity=2)


@pytest.mark.parametrize(
    ("arrange", "seen"),
    [
        (_standby_and_unhealthy, "1 of 2 instances in service after 0.2s (1 Standby, 1 Unhealthy)"),
        (_pending_forever, "0 of 2 instances in service after 0.2s (2 Pending)"),
        (_never_launched, "1 of 2 instances in service after 0.2s (1 not launched)"),
        (_protected_from_scale_in, "3 instances in service instead of 2 after 0.2s"),
    ],
    ids=["standby_and_unhealthy", "pending", "not_launched", "protected_from_scale_in"],
)
async def test_autoscaling_wait_fails_after_its_timeout_with_the_counts_seen(
    tools: Registry,
    gateway: AwsGateway,
    moto: MotoServer,
    arrange: Callable[[MotoServer, AwsGateway], None],
    seen: str,
) -> None:
    arrange(moto, gateway)
    loop = asyncio.get_running_loop()
    started = loop.time()

    with pytest.raises(ToolError) as raised:
        await run(tools, "aws.autoscaling_wait", {**WEB, "desired_capacity": 2, "timeout_seconds": 0.2})

    assert raised.value.message == f"aws: auto scaling group web has {seen}"
    assert raised.value.call == "autoscaling:DescribeAutoScalingGroups"
    assert loop.time() - started >= 0.2


async def test_autoscaling_wait_refuses_at_once_a_group_whose_desired_capacity_is_not_the_plans(
    tools: Registry, gateway: AwsGateway, moto: MotoServer
) -> None:
    create_group(moto)

    with pytest.raises(ToolError) as raised:
        await run(tools, "aws.autoscaling_wait", {**WEB, "desired_capacity": 3})

    assert raised.value.message == (
        "aws: auto scaling group web has desired capacity 2, not the 3 this step waits for; it changed "
        "after the plan set it (a scaling policy or another change)"
    )
    assert raised.value.call == "autoscaling:DescribeAutoScalingGroups"
    assert gateway.operations() == [DESCRIBE_GROUPS]


async def test_autoscaling_wait_on_an_unknown_group_is_not_found(tools: Registry, moto: MotoServer) -> None:
    create_group(moto)

    with pytest.raises(ToolError) as raised:
        await run(tools, "aws.autoscaling_wait", {"group": "api", "desired_capacity": 2})

    assert raised.value.message == "aws: auto scaling group api not found in us-east-1"
    assert (raised.value.call, raised.value.status) == ("autoscaling:DescribeAutoScalingGroups", 404)


async def test_ecs_wait_after_a_scale_passes_at_once_with_the_counts_it_read(
    tools: Registry, gateway: AwsGateway, moto: MotoServer
) -> None:
    create_service(moto, desired_count=0)
    await run(tools, "aws.ecs_scale", {**CHECKOUT, "desired_count": 3})

    result = await run(tools, "aws.ecs_wait", {**CHECKOUT, "desired_count": 3})

    assert result.summary == "ECS service shop/checkout: 3 of 3 tasks running, deployment finished"
    assert result.data | {"deployment_id": None} == {
        "cluster": "shop",
        "service": "checkout",
        "arn": "arn:aws:ecs:us-east-1:123456789012:service/shop/checkout",
        "desired_count": 3,
        "running_count": 3,
        "pending_count": 0,
        "deployments": 1,
        "deployment_id": None,
        "rollout_state": "COMPLETED",
    }
    assert result.data["deployment_id"].startswith("ecs-svc/")
    assert gateway.operations() == [DESCRIBE_SERVICES, "UpdateService", DESCRIBE_SERVICES]


async def test_ecs_wait_passes_once_the_tasks_run_and_the_rollout_completed(
    tools: Registry, gateway: AwsGateway, moto: MotoServer
) -> None:
    create_service(moto, desired_count=2)  # no task running yet, its deployment IN_PROGRESS

    def tasks_started() -> None:
        moto.client("ecs").update_service(cluster="shop", service="checkout", desiredCount=2)
        gateway.rewrite(DESCRIBE_SERVICES, _services(_rollout("COMPLETED")))

    result = await _changed_after_first_poll(
        tools, gateway, "aws.ecs_wait", {**CHECKOUT, "desired_count": 2}, DESCRIBE_SERVICES, tasks_started
    )

    assert result.data["running_count"] == 2
    assert result.data["rollout_state"] == "COMPLETED"
    assert gateway.operations().count(DESCRIBE_SERVICES) >= 2


async def test_ecs_wait_passes_once_the_old_deployment_is_gone(
    tools: Registry, gateway: AwsGateway, moto: MotoServer
) -> None:
    create_service(moto, desired_count=0)
    moto.client("ecs").update_service(cluster="shop", service="checkout", desiredCount=2)
    gateway.rewrite(DESCRIBE_SERVICES, _services(_old_deployment))

    result = await _changed_after_first_poll(
        tools,
        gateway,
        "aws.ecs_wait",
        {**CHECKOUT, "desired_count": 2},
        DESCRIBE_SERVICES,
        lambda: gateway.rewrite(DESCRIBE_SERVICES, None),
    )

    assert result.data["deployments"] == 1
    assert gateway.operations().count(DESCRIBE_SERVICES) >= 2


async def test_ecs_wait_without_a_count_waits_for_the_services_own_desired_count(
    tools: Registry, gateway: AwsGateway, moto: MotoServer
) -> None:
    create_service(moto, desired_count=0)
    moto.client("ecs").update_service(cluster="shop", service="checkout", desiredCount=2)
    await run(tools, "aws.ecs_restart", CHECKOUT)

    result = await run(tools, "aws.ecs_wait", CHECKOUT)

    assert result.summary == "ECS service shop/checkout: 2 of 2 tasks running, deployment finished"
    assert result.data["desired_count"] == 2


async def test_ecs_wait_without_a_count_still_waits_for_the_tasks(
    tools: Registry, gateway: AwsGateway, moto: MotoServer
) -> None:
    create_service(moto, desired_count=2)  # no task running yet, its deployment IN_PROGRESS

    with pytest.raises(ToolError) as raised:
        await run(tools, "aws.ecs_wait", {**CHECKOUT, "timeout_seconds": 0.2})

    assert raised.value.message == (
        "aws: ECS service shop/checkout has 0 of 2 tasks running after 0.2s (2 pending, rollout IN_PROGRESS)"
    )


def _no_task_started(moto: MotoServer, gateway: AwsGateway) -> None:
    create_service(moto, desired_count=2)


def _rollout_in_progress(moto: MotoServer, gateway: AwsGateway) -> None:
    create_service(moto, desired_count=2)
    moto.client("ecs").update_service(cluster="shop", service="checkout", desiredCount=2)


def _old_deployment_draining(moto: MotoServer, gateway: AwsGateway) -> None:
    create_service(moto, desired_count=0)
    moto.client("ecs").update_service(cluster="shop", service="checkout", desiredCount=2)
    gateway.rewrite(DESCRIBE_SERVICES, _services(_old_deployment))


@pytest.mark.parametrize(
    ("arrange", "seen"),
    [
        (_no_task_started, "0 of 2 tasks running after 0.2s (2 pending, rollout IN_PROGRESS)"),
        (_rollout_in_progress, "2 of 2 tasks running after 0.2s (rollout IN_PROGRESS)"),
        (_old_deployment_draining, "2 of 2 tasks running after 0.2s (2 deployments)"),
    ],
    ids=["no_task_started", "rollout_in_progress", "old_deployment_draining"],
)
async def test_ecs_wait_fails_after_its_timeout_with_the_counts_seen(
    tools: Registry,
    gateway: AwsGateway,
    moto: MotoServer,
    arrange: Callable[[MotoServer, AwsGateway], None],
    seen: str,
) -> None:
    arrange(moto, gateway)
    loop = asyncio.get_running_loop()
    started = loop.time()

    with pytest.raises(ToolError) as raised:
        await run(tools, "aws.ecs_wait", {**CHECKOUT, "desired_count": 2, "timeout_seconds": 0.2})

    assert raised.value.message == f"aws: ECS service shop/checkout has {seen}"
    assert raised.value.call == "ecs:DescribeServices"
    assert loop.time() - started >= 0.2


async def test_ecs_wait_fails_at_once_when_the_rollout_failed(
    tools: Registry, gateway: AwsGateway, moto: MotoServer
) -> None:
    create_service(moto, desired_count=2)
    gateway.rewrite(DESCRIBE_SERVICES, _services(_rollout("FAILED", CIRCUIT_BREAKER)))

    with pytest.raises(ToolError) as raised:
        await run(tools, "aws.ecs_wait", {**CHECKOUT, "desired_count": 2})

    services = moto.client("ecs").describe_services(cluster="shop", services=["checkout"])
    deployment = services["services"][0]["deployments"][0]["id"]
    assert raised.value.message == (
        f"aws: ECS service shop/checkout deployment {deployment} failed: {CIRCUIT_BREAKER} "
        "(0 of 2 tasks running)"
    )
    assert raised.value.call == "ecs:DescribeServices"
    assert gateway.operations() == [DESCRIBE_SERVICES]


async def test_ecs_wait_refuses_at_once_a_service_whose_desired_count_is_not_the_plans(
    tools: Registry, gateway: AwsGateway, moto: MotoServer
) -> None:
    create_service(moto, desired_count=2)

    with pytest.raises(ToolError) as raised:
        await run(tools, "aws.ecs_wait", {**CHECKOUT, "desired_count": 3})

    assert raised.value.message == (
        "aws: ECS service shop/checkout has desired count 2, not the 3 this step waits for; it changed "
        "after the plan set it (service auto scaling or another change)"
    )
    assert gateway.operations() == [DESCRIBE_SERVICES]


async def test_ecs_wait_on_a_deleted_service_fails_though_its_counts_match(
    tools: Registry, moto: MotoServer
) -> None:
    create_service(moto, desired_count=0)
    moto.client("ecs").delete_service(cluster="shop", service="checkout", force=True)

    with pytest.raises(ToolError) as raised:
        await run(tools, "aws.ecs_wait", {**CHECKOUT, "desired_count": 0})

    assert raised.value.message == (
        "aws: ECS service shop/checkout is INACTIVE, not ACTIVE: it was deleted or is being deleted"
    )


async def test_ecs_wait_on_an_unknown_service_is_not_found(tools: Registry, moto: MotoServer) -> None:
    create_service(moto)

    with pytest.raises(ToolError) as raised:
        await run(tools, "aws.ecs_wait", {"cluster": "shop", "service": "cart", "desired_count": 2})

    assert raised.value.message == "aws: ECS service shop/cart not found in us-east-1 (MISSING)"
    assert (raised.value.call, raised.value.status) == ("ecs:DescribeServices", 404)


@pytest.mark.parametrize(
    ("name", "raw", "timeout"),
    [
        ("aws.autoscaling_wait", {**WEB, "desired_capacity": 0}, 600),
        ("aws.autoscaling_wait", {**WEB, "desired_capacity": 10000, "timeout_seconds": 1800}, 1800),
        ("aws.ecs_wait", {**CHECKOUT, "desired_count": 0, "timeout_seconds": 0.5}, 0.5),
        ("aws.ecs_wait", {**CHECKOUT, "desired_count": 3, "environment": "prod"}, 600),
        ("aws.ecs_wait", CHECKOUT, 600),
        ("aws.secret_rotation_wait", {"secret_id": "shop/db", "previous_version_id": "v1"}, 300),
    ],
)
def test_wait_args_accept_counts_and_bounded_timeouts(
    tools: Registry, name: str, raw: dict[str, Any], timeout: float
) -> None:
    action = tools.get(name)

    assert action.parse_args(raw).timeout_seconds == timeout
    assert action.effect is Effect.READ and action.idempotent
    assert action.timeout_seconds > 1800, "the worker must not cut the longest wait short"


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("aws.autoscaling_wait", {**WEB, "desired_capacity": -1}),
        ("aws.autoscaling_wait", {**WEB, "desired_capacity": 10001}),
        ("aws.autoscaling_wait", WEB),
        ("aws.autoscaling_wait", {**WEB, "desired_capacity": 2, "timeout_seconds": 0}),
        ("aws.autoscaling_wait", {**WEB, "desired_capacity": 2, "timeout_seconds": 1801}),
        ("aws.autoscaling_wait", {**WEB, "desired_capacity": 2, "poll_seconds": 1}),
        ("aws.autoscaling_wait", {"group": "web:1", "desired_capacity": 2}),
        ("aws.ecs_wait", {**CHECKOUT, "desired_count": -1}),
        ("aws.ecs_wait", {**CHECKOUT, "desired_count": 2, "timeout_seconds": -5}),
        ("aws.ecs_wait", {**CHECKOUT, "desired_count": 2, "timeout_seconds": 0}),
        ("aws.ecs_wait", {**CHECKOUT, "desired_count": 2, "timeout_seconds": 7200}),
        ("aws.ecs_wait", {"cluster": "shop", "desired_count": 2}),
        ("aws.secret_rotation_wait", {"secret_id": "shop/db"}),
        (
            "aws.secret_rotation_wait",
            {"secret_id": "shop/db", "previous_version_id": "v1", "timeout_seconds": 0},
        ),
        ("aws.secret_rotation_wait", {"secret_id": "shop db", "previous_version_id": "v1"}),
    ],
)
def test_wait_args_reject_bad_counts_and_timeouts(tools: Registry, name: str, raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        tools.get(name).parse_args(raw)


async def _changed_after_first_poll(
    tools: Registry,
    gateway: AwsGateway,
    name: str,
    raw: dict[str, Any],
    operation: str,
    change: Callable[[], None],
) -> ActionResult:
    """Run the wait, and `change` the state once its first read has been answered."""
    async with asyncio.TaskGroup() as group:
        waiting = group.create_task(run(tools, name, {**raw, "timeout_seconds": 10}))
        await gateway.answered(operation)
        change()
    return waiting.result()


def _instance_ids(moto: MotoServer) -> list[str]:
    group = moto.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["web"])
    return sorted(instance["InstanceId"] for instance in group["AutoScalingGroups"][0]["Instances"])


def _instances(change: Callable[[ET.Element], None]) -> Callable[[str], str]:
    """An edit of DescribeAutoScalingGroups answers: `change` gets the group's list of instances."""
    ET.register_namespace("", AUTOSCALING_NS)

    def edit(body: str) -> str:
        root = ET.fromstring(body)
        for instances in root.iter(f"{{{AUTOSCALING_NS}}}Instances"):
            change(instances)
        return ET.tostring(root, encoding="unicode")

    return edit


def _pending(count: int) -> Callable[[ET.Element], None]:
    def change(instances: ET.Element) -> None:
        for instance in list(instances)[:count]:
            state = instance.find(f"{{{AUTOSCALING_NS}}}LifecycleState")
            assert state is not None
            state.text = "Pending"

    return change


def _services(change: Callable[[dict[str, Any]], None]) -> Callable[[str], str]:
    """An edit of DescribeServices answers: `change` gets each service."""

    def edit(body: str) -> str:
        answer = json.loads(body)
        for service in answer["services"]:
            change(service)
        return json.dumps(answer)

    return edit


def _rollout(state: str, reason: str = "") -> Callable[[dict[str, Any]], None]:
    def change(service: dict[str, Any]) -> None:
        service["deployments"][0].update(rolloutState=state, rolloutStateReason=reason)

    return change


def _old_deployment(service: dict[str, Any]) -> None:
    """The deployment a new one replaces, still running its tasks until they are drained."""
    primary = service["deployments"][0]
    service["deployments"].append({**primary, "id": "ecs-svc/0000000000", "status": "ACTIVE"})


SECRET = "shop/db-password"


async def test_secret_rotation_wait_passes_at_once_when_the_rotation_has_finished(
    tools: Registry, gateway: AwsGateway, moto: MotoServer
) -> None:
    create_rotatable_secret(moto, SECRET, "first-value-000")
    before = current_secret_version(moto, SECRET)
    await run(tools, "aws.secret_rotate", {"secret_id": SECRET})

    result = await run(
        tools, "aws.secret_rotation_wait", {"secret_id": SECRET, "previous_version_id": before}
    )

    after = current_secret_version(moto, SECRET)
    assert result.summary == f"rotation of secret {SECRET} finished, version {after} is AWSCURRENT"
    assert Redactor().redact(result.summary) == result.summary
    assert result.data | {"arn": None} == {
        "arn": None,
        "name": SECRET,
        "previous_version_id": before,
        "version_id": after,
    }
    assert gateway.operations() == ["DescribeSecret", "RotateSecret", "DescribeSecret"]


async def test_secret_rotation_wait_passes_once_the_function_moved_awscurrent(
    tools: Registry, gateway: AwsGateway, moto: MotoServer
) -> None:
    before, pending = _rotation_started(moto)

    def finished() -> None:
        moto.client("secretsmanager").update_secret_version_stage(
            SecretId=SECRET, VersionStage="AWSCURRENT", MoveToVersionId=pending, RemoveFromVersionId=before
        )

    result = await _changed_after_first_poll(
        tools,
        gateway,
        "aws.secret_rotation_wait",
        {"secret_id": SECRET, "previous_version_id": before},
        "DescribeSecret",
        finished,
    )

    assert result.data["version_id"] == pending
    assert gateway.operations().count("DescribeSecret") >= 2


async def test_secret_rotation_wait_fails_after_its_timeout_naming_the_labels(
    tools: Registry, moto: MotoServer
) -> None:
    before, pending = _rotation_started(moto)

    with pytest.raises(ToolError) as raised:
        await run(
            tools,
            "aws.secret_rotation_wait",
            {"secret_id": SECRET, "previous_version_id": before, "timeout_seconds": 0.2},
        )

    assert raised.value.message == (
        f"aws: the rotation of secret {SECRET} has not finished after 0.2s: AWSCURRENT is still version "
        f"{before}, version {pending} is AWSPENDING"
    )
    assert raised.value.call == "secretsmanager:DescribeSecret"


def _rotation_started(moto: MotoServer) -> tuple[str, str]:
    """A rotation function half-way: it created the new version (AWSPENDING) but has not moved
    AWSCURRENT to it yet. Returns (current, pending)."""
    create_rotatable_secret(moto, SECRET, "first-value-000")
    before = current_secret_version(moto, SECRET)
    pending = moto.client("secretsmanager").put_secret_value(
        SecretId=SECRET, SecretString="second-value-000", VersionStages=["AWSPENDING"]
    )["VersionId"]
    return before, pending
