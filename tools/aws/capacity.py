"""Capacity changes on AWS: an Auto Scaling group's desired capacity, an ECS service's desired count,
and an ECS service restart (a new deployment of the same task definition).

Each write reads the current state first: the scale actions keep the previous value in their data
for the rollback, and every dry run is that read plus the checks AWS would make, changing nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from tools.aws.action import AwsAction, AwsArgs, environment_args, jsonable
from tools.common.base import ActionResult, Effect, Rehearsed, RollbackStep, ToolError

AsgName = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f:]+$")]
EcsName = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_-]+$")]
Capacity = Annotated[int, Field(ge=0, le=10000)]


class AutoScalingGroupArgs(AwsArgs):
    group: AsgName


class SetDesiredCapacityArgs(AutoScalingGroupArgs):
    desired_capacity: Capacity


class EcsServiceArgs(AwsArgs):
    cluster: EcsName
    service: EcsName

    @property
    def ref(self) -> str:
        return f"{self.cluster}/{self.service}"


class SetDesiredCountArgs(EcsServiceArgs):
    desired_count: Capacity


class ScaleAutoScalingGroup(Rehearsed, AwsAction[SetDesiredCapacityArgs]):
    name = "aws.autoscaling_scale"
    description = "Set an Auto Scaling group's desired capacity (within its min and max size)."
    args_model = SetDesiredCapacityArgs
    effect = Effect.WRITE
    idempotent = True
    timeout_seconds = 60.0

    def rollback(self, args: SetDesiredCapacityArgs, result: ActionResult) -> RollbackStep:
        previous = result.data["previous_desired_capacity"]
        return RollbackStep(
            action=self.name,
            args={**environment_args(args), "group": args.group, "desired_capacity": previous},
            description=f"set auto scaling group {args.group} back to {previous} instances",
        )

    async def apply(self, args: SetDesiredCapacityArgs, *, dry_run: bool) -> ActionResult:
        group = await read_auto_scaling_group(self, args)
        previous, low, high = group["DesiredCapacity"], group["MinSize"], group["MaxSize"]
        if not low <= args.desired_capacity <= high:
            side = "below the minimum" if args.desired_capacity < low else "above the maximum"
            bound = low if args.desired_capacity < low else high
            raise ToolError(
                f"aws: desired capacity {args.desired_capacity} is {side} {bound} of auto scaling group "
                f"{args.group} (min {low}, max {high}); change the group's size limits first",
                call="autoscaling:SetDesiredCapacity",
            )
        if not dry_run:
            await self.aws.call(
                args.environment,
                "autoscaling",
                "SetDesiredCapacity",
                AutoScalingGroupName=args.group,
                DesiredCapacity=args.desired_capacity,
            )
        return ActionResult(
            summary=f"{args.group} desired capacity {previous} → {args.desired_capacity}",
            data={
                **environment_args(args),
                "group": args.group,
                "arn": group["AutoScalingGroupARN"],
                "previous_desired_capacity": previous,
                "desired_capacity": args.desired_capacity,
                "min_size": low,
                "max_size": high,
            },
        )


class ScaleEcsService(Rehearsed, AwsAction[SetDesiredCountArgs]):
    name = "aws.ecs_scale"
    description = "Set an ECS service's desired task count."
    args_model = SetDesiredCountArgs
    effect = Effect.WRITE
    idempotent = True
    timeout_seconds = 60.0

    def rollback(self, args: SetDesiredCountArgs, result: ActionResult) -> RollbackStep:
        previous = result.data["previous_desired_count"]
        return RollbackStep(
            action=self.name,
            args={
                **environment_args(args),
                "cluster": args.cluster,
                "service": args.service,
                "desired_count": previous,
            },
            description=f"set ECS service {args.ref} back to {previous} tasks",
        )

    async def apply(self, args: SetDesiredCountArgs, *, dry_run: bool) -> ActionResult:
        service = await read_ecs_service(self, args)
        previous = service["desiredCount"]
        if not dry_run:
            await self.aws.call(
                args.environment,
                "ecs",
                "UpdateService",
                cluster=args.cluster,
                service=args.service,
                desiredCount=args.desired_count,
            )
        return ActionResult(
            summary=f"ECS service {args.ref} desired count {previous} → {args.desired_count}",
            data={
                **environment_args(args),
                "cluster": args.cluster,
                "service": args.service,
                "arn": service["serviceArn"],
                "previous_desired_count": previous,
                "desired_count": args.desired_count,
                "running_count": service.get("runningCount", 0),
            },
        )


class RestartEcsService(Rehearsed, AwsAction[EcsServiceArgs]):
    """A forced new deployment: ECS replaces every task with a fresh one of the same task definition.
    It has no inverse (the old tasks are gone), so no rollback. botocore's retries may repeat the call:
    a throttled attempt never reached ECS, and a repeated 5xx at worst starts one more identical
    deployment, which the newest one supersedes."""

    name = "aws.ecs_restart"
    description = "Restart an ECS service's tasks with a forced new deployment."
    args_model = EcsServiceArgs
    effect = Effect.WRITE
    timeout_seconds = 60.0

    async def run(self, args: EcsServiceArgs) -> ActionResult:
        before = await read_ecs_service(self, args)
        answer = await self.aws.call(
            args.environment,
            "ecs",
            "UpdateService",
            cluster=args.cluster,
            service=args.service,
            forceNewDeployment=True,
        )
        after = answer["service"]
        deployment = _primary_deployment(after)
        return ActionResult(
            summary=f"restarted ECS service {args.ref}: new deployment {deployment.get('id', '?')}",
            data={
                **environment_args(args),
                "cluster": args.cluster,
                "service": args.service,
                "arn": after["serviceArn"],
                "task_definition": after.get("taskDefinition"),
                "previous_deployment_id": _primary_deployment(before).get("id"),
                "deployment_id": deployment.get("id"),
                "desired_count": after.get("desiredCount"),
            },
        )

    async def rehearse(self, args: EcsServiceArgs) -> ActionResult:
        service = await read_ecs_service(self, args)
        if service.get("status") != "ACTIVE":
            raise ToolError(
                f"aws: ECS service {args.ref} is {service.get('status')}, not ACTIVE; it cannot be restarted",
                call="ecs:UpdateService",
            )
        return ActionResult(
            summary=(
                f"would restart ECS service {args.ref} "
                f"({service.get('runningCount', 0)} of {service['desiredCount']} tasks running)"
            ),
            data={
                **environment_args(args),
                "cluster": args.cluster,
                "service": args.service,
                "arn": service["serviceArn"],
                "task_definition": service.get("taskDefinition"),
                "deployment_id": _primary_deployment(service).get("id"),
                "desired_count": service["desiredCount"],
            },
        )


async def read_auto_scaling_group(action: AwsAction[Any], args: AutoScalingGroupArgs) -> dict[str, Any]:
    """The group, or a not-found ToolError: DescribeAutoScalingGroups answers an unknown name with an
    empty list, not an error."""
    answer = await action.aws.call(
        args.environment, "autoscaling", "DescribeAutoScalingGroups", AutoScalingGroupNames=[args.group]
    )
    groups = answer.get("AutoScalingGroups", [])
    if not groups:
        raise ToolError(
            f"aws: auto scaling group {args.group} not found in {action.aws.where(args.environment)}",
            call="autoscaling:DescribeAutoScalingGroups",
            status=404,
        )
    return dict(groups[0])


async def read_ecs_service(action: AwsAction[Any], args: EcsServiceArgs) -> dict[str, Any]:
    """The service, or a not-found ToolError: DescribeServices reports a missing service as a
    "failure" entry in a successful answer, not as an error."""
    answer = await action.aws.call(
        args.environment, "ecs", "DescribeServices", cluster=args.cluster, services=[args.service]
    )
    services = answer.get("services", [])
    if not services:
        reasons = ", ".join(sorted({failure.get("reason", "?") for failure in answer.get("failures", [])}))
        where = action.aws.where(args.environment)
        raise ToolError(
            f"aws: ECS service {args.ref} not found in {where} ({reasons or 'no answer'})",
            call="ecs:DescribeServices",
            status=404,
        )
    return dict(jsonable(services[0]))


def _primary_deployment(service: dict[str, Any]) -> dict[str, Any]:
    deployments = service.get("deployments") or [{}]
    return next((d for d in deployments if d.get("status") == "PRIMARY"), deployments[0])
