"""What the tests/integration/tools/aws/test_*.py modules share: the AWS tool built through its entry
point, running an action as the worker does, and the Auto Scaling group, ECS service and secret they
act on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tests.fakes.moto_server import REGION, MotoServer
from tools.aws import toolset
from tools.common.base import ActionResult
from tools.common.registry import Registry

WEB = {"group": "web"}
CHECKOUT = {"cluster": "shop", "service": "checkout"}


@asynccontextmanager
async def aws_toolset(environ: dict[str, str]) -> AsyncIterator[Registry]:
    """The real entry point's actions, closed afterwards."""
    built = toolset(environ)
    try:
        yield Registry(built.actions)
    finally:
        await built.aclose()


async def run(registry: Registry, name: str, raw: dict[str, Any]) -> ActionResult:
    action = registry.get(name)
    return await action.run(action.parse_args(raw))


def create_group(moto: MotoServer, region: str = REGION, **options: Any) -> None:
    """Auto Scaling group `web` (min 1, max 5, desired 2 unless `options` say otherwise); moto starts
    its instances InService and Healthy at once."""
    ec2 = moto.client("ec2", region_name=region)
    ec2.create_launch_template(
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-12345678", "InstanceType": "t3.micro"}
    )
    moto.client("autoscaling", region_name=region).create_auto_scaling_group(
        AutoScalingGroupName="web",
        LaunchTemplate={"LaunchTemplateName": "web"},
        AvailabilityZones=[f"{region}a"],
        **{"MinSize": 1, "MaxSize": 5, "DesiredCapacity": 2, **options},
    )


def create_service(moto: MotoServer, *, desired_count: int = 2) -> None:
    """ECS service shop/checkout. moto starts no task: runningCount is 0 and the first deployment stays
    IN_PROGRESS, unless `desired_count` is 0 (its deployment is then COMPLETED); an UpdateService
    with a desired count makes that many tasks run at once."""
    ecs = moto.client("ecs")
    ecs.create_cluster(clusterName="shop")
    ecs.register_task_definition(
        family="checkout", containerDefinitions=[{"name": "app", "image": "checkout:1.4", "memory": 256}]
    )
    ecs.create_service(
        cluster="shop", serviceName="checkout", taskDefinition="checkout", desiredCount=desired_count
    )


def create_rotatable_secret(moto: MotoServer, name: str, value: str) -> str:
    """A secret whose rotation is configured, returning its ARN. moto accepts rotation rules without a
    Lambda, and then rotates by itself at once: RotateSecret labels a new version AWSCURRENT (and the
    old one AWSPREVIOUS) with no function run. Given a Lambda ARN it would invoke the function through
    its Lambda backend, which needs Docker."""
    secrets = moto.client("secretsmanager")
    arn = secrets.create_secret(Name=name, SecretString=value, Tags=[{"Key": "service", "Value": "checkout"}])
    secrets.rotate_secret(SecretId=name, RotationRules={"AutomaticallyAfterDays": 30})
    return str(arn["ARN"])


def current_secret_version(moto: MotoServer, name: str) -> str:
    versions = moto.client("secretsmanager").describe_secret(SecretId=name)["VersionIdsToStages"]
    return next(version for version, stages in versions.items() if "AWSCURRENT" in stages)
