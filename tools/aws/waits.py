"""Waiting until a capacity change has taken effect on AWS: an Auto Scaling group's instances in
service, an ECS service's tasks running with its deployment finished. They verify aws.autoscaling_scale
and aws.ecs_scale.

Each re-reads the resource every `poll_seconds` until it is ready, until it can no longer become ready
as the plan meant (its desired count is not the one the plan set, an ECS rollout failed, the service
was deleted), or until the step's own timeout passes; the error then says what was seen last.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from tools.aws.action import AwsAction, environment_args
from tools.aws.capacity import (
    AutoScalingGroupArgs,
    Capacity,
    EcsServiceArgs,
    read_auto_scaling_group,
    read_ecs_service,
)
from tools.common.base import ActionResult, ArgsT, Effect, ToolError
from tools.common.polling import until

if TYPE_CHECKING:
    from tools.common.aws.client import AwsClients

WaitSeconds = Annotated[float, Field(gt=0, le=1800)]
# Instances and tasks take tens of seconds to start; a read every few seconds stays far below the
# Describe* rate limits even with many waits at once.
WAIT_POLL_SECONDS = 5.0
_DESCRIBE_GROUPS = "autoscaling:DescribeAutoScalingGroups"
_DESCRIBE_SERVICES = "ecs:DescribeServices"


class AutoScalingWaitArgs(AutoScalingGroupArgs):
    desired_capacity: Capacity
    timeout_seconds: WaitSeconds = 600


class EcsWaitArgs(EcsServiceArgs):
    # None: whatever the service's desired count is (after a restart, which does not change it).
    desired_count: Capacity | None = None
    timeout_seconds: WaitSeconds = 600


class AwsWait(AwsAction[ArgsT]):
    """Base of the actions that read until a state is reached, every `poll_seconds`."""

    effect = Effect.READ
    idempotent = True
    timeout_seconds = 1860.0  # above the largest timeout_seconds the args accept

    def __init__(self, aws: AwsClients, *, poll_seconds: float = WAIT_POLL_SECONDS) -> None:
        super().__init__(aws)
        self.poll_seconds = poll_seconds


class WaitForAutoScalingGroup(AwsWait[AutoScalingWaitArgs]):
    name = "aws.autoscaling_wait"
    description = "Wait until an Auto Scaling group has its desired number of InService, Healthy instances."
    args_model = AutoScalingWaitArgs

    async def run(self, args: AutoScalingWaitArgs) -> ActionResult:
        async def read() -> _GroupState:
            return _GroupState.of(await read_auto_scaling_group(self, args))

        wanted = args.desired_capacity
        group, _ = await until(
            read,
            lambda g: g.desired != wanted or g.in_service == wanted,
            time_limit=args.timeout_seconds,
            poll_seconds=self.poll_seconds,
        )
        if group.desired != wanted:
            raise ToolError(
                f"aws: auto scaling group {args.group} has desired capacity {group.desired}, not the "
                f"{wanted} this step waits for; it changed after the plan set it (a scaling policy or "
                "another change)",
                call=_DESCRIBE_GROUPS,
            )
        progress = _progress(group.in_service, wanted, "instances in service")
        if group.in_service != wanted:
            raise ToolError(
                f"aws: auto scaling group {args.group} has {progress} after {args.timeout_seconds:g}s"
                f"{_listed(group.waiting_on(wanted))}",
                call=_DESCRIBE_GROUPS,
            )
        return ActionResult(
            summary=f"{args.group}: {progress}",
            data={
                **environment_args(args),
                "group": args.group,
                "arn": group.arn,
                "desired_capacity": group.desired,
                "in_service": group.in_service,
                "instances": group.instances,
                "not_in_service": group.not_in_service,
            },
        )


class WaitForEcsService(AwsWait[EcsWaitArgs]):
    name = "aws.ecs_wait"
    description = (
        "Wait until an ECS service runs its desired number of tasks and its deployment has finished."
    )
    args_model = EcsWaitArgs

    async def run(self, args: EcsWaitArgs) -> ActionResult:
        async def read() -> _ServiceState:
            return _ServiceState.of(await read_ecs_service(self, args))

        service, _ = await until(
            read,
            lambda s: s.refusal(args.desired_count) is not None or s.ready(args.desired_count),
            time_limit=args.timeout_seconds,
            poll_seconds=self.poll_seconds,
        )
        wanted = service.desired if args.desired_count is None else args.desired_count
        progress = _progress(service.running, wanted, "tasks running")
        refusal = service.refusal(args.desired_count)
        if refusal is not None:
            raise ToolError(f"aws: ECS service {args.ref} {refusal}", call=_DESCRIBE_SERVICES)
        if not service.ready(args.desired_count):
            raise ToolError(
                f"aws: ECS service {args.ref} has {progress} after {args.timeout_seconds:g}s"
                f"{_listed(service.waiting_on())}",
                call=_DESCRIBE_SERVICES,
            )
        return ActionResult(
            summary=f"ECS service {args.ref}: {progress}, deployment finished",
            data={
                **environment_args(args),
                "cluster": args.cluster,
                "service": args.service,
                "arn": service.arn,
                "desired_count": service.desired,
                "running_count": service.running,
                "pending_count": service.pending,
                "deployments": service.deployments,
                "deployment_id": service.deployment_id,
                "rollout_state": service.rollout_state,
            },
        )


@dataclass(frozen=True)
class _GroupState:
    arn: str
    desired: int
    instances: int
    in_service: int
    # The group's other instances by why they do not count: their lifecycle state, or their health
    # ("Unhealthy") when they are InService.
    not_in_service: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, group: Mapping[str, Any]) -> _GroupState:
        instances = group.get("Instances", [])
        reasons = Counter(_not_in_service(instance) for instance in instances)
        in_service = reasons.pop(None, 0)
        return cls(
            arn=group["AutoScalingGroupARN"],
            desired=group["DesiredCapacity"],
            instances=len(instances),
            in_service=in_service,
            not_in_service={reason: reasons[reason] for reason in sorted(reasons)},
        )

    def waiting_on(self, wanted: int) -> list[str]:
        counts = [f"{count} {reason}" for reason, count in self.not_in_service.items()]
        if self.instances < wanted:
            counts.append(f"{wanted - self.instances} not launched")
        return counts


@dataclass(frozen=True)
class _ServiceState:
    arn: str
    status: str
    desired: int
    running: int
    pending: int
    deployments: int
    deployment_id: str | None
    # Absent for services whose deployments ECS does not roll out itself (CODE_DEPLOY, EXTERNAL).
    rollout_state: str | None
    rollout_reason: str

    @classmethod
    def of(cls, service: Mapping[str, Any]) -> _ServiceState:
        deployments = service.get("deployments") or []
        primary = next((d for d in deployments if d.get("status") == "PRIMARY"), {})
        return cls(
            arn=service["serviceArn"],
            status=service.get("status", "?"),
            desired=service["desiredCount"],
            running=service.get("runningCount", 0),
            pending=service.get("pendingCount", 0),
            deployments=len(deployments),
            deployment_id=primary.get("id"),
            rollout_state=primary.get("rolloutState"),
            rollout_reason=primary.get("rolloutStateReason") or "no reason given",
        )

    def ready(self, wanted: int | None) -> bool:
        return (
            self.running == self.desired == (self.desired if wanted is None else wanted)
            and self.deployments <= 1
            and self.rollout_state in (None, "COMPLETED")
        )

    def refusal(self, wanted: int | None) -> str | None:
        """Why the service cannot reach the state the plan meant, however long the step waits."""
        if self.status != "ACTIVE":
            return f"is {self.status}, not ACTIVE: it was deleted or is being deleted"
        if wanted is not None and self.desired != wanted:
            return (
                f"has desired count {self.desired}, not the {wanted} this step waits for; it changed "
                "after the plan set it (service auto scaling or another change)"
            )
        if self.rollout_state == "FAILED":
            progress = _progress(self.running, self.desired, "tasks running")
            return f"deployment {self.deployment_id} failed: {self.rollout_reason} ({progress})"
        return None

    def waiting_on(self) -> list[str]:
        counts = [f"{self.pending} pending"] if self.pending else []
        if self.deployments > 1:
            counts.append(f"{self.deployments} deployments")
        if self.rollout_state not in (None, "COMPLETED"):
            counts.append(f"rollout {self.rollout_state}")
        return counts


def _not_in_service(instance: Mapping[str, Any]) -> str | None:
    state = instance.get("LifecycleState", "?")
    if state != "InService":
        return str(state)
    health = instance.get("HealthStatus", "?")
    return None if health == "Healthy" else str(health)


def _progress(ready: int, wanted: int, what: str) -> str:
    """As in "1 of 3 tasks running", or "3 tasks running instead of 1" while a scale-in is not done."""
    if ready <= wanted:
        return f"{ready} of {wanted} {what}"
    return f"{ready} {what} instead of {wanted}"


def _listed(counts: list[str]) -> str:
    return f" ({', '.join(counts)})" if counts else ""
