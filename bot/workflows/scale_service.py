"""scale_service: a Kubernetes Deployment, an AWS Auto Scaling group or an ECS service to N, then
wait until the capacity is really there (and hold an optional PromQL check); the rollback returns
to the count read just before the change."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from bot.domain import StepStage, Target
from bot.workflows.base import (
    PlannedStep,
    PlanningContext,
    StepDeclaration,
    Workflow,
    WorkflowInputs,
    WorkflowPlan,
)
from bot.workflows.checks import check_step
from bot.workflows.fields import AwsEnvironment, Check, EcsCluster, Namespace
from bot.workflows.sentences import NAME, Sentence, named, sentence

MAX_COUNT = 1000

_SCALE = ("kubernetes.scale", "aws.autoscaling_scale", "aws.ecs_scale")
_WAIT = ("kubernetes.rollout_status", "aws.autoscaling_wait", "aws.ecs_wait")
_IN_NS = rf"(?:(?:in|-n|--namespace) (?:namespace )?{named('namespace')})"
_COUNT = rf"{named('count', '[0-9]+')}(?: (?:replicas?|instances?|tasks?))?"
_ASG = rf"(?:asg|autoscaling group|auto scaling group) {named('name', r'[a-z0-9_.-]+')}"
_ECS = rf"ecs (?:service )?{named('ecs_cluster', r'[a-z0-9_-]+')}/{named('name', r'[a-z0-9_-]+')}"
_DEPLOYMENT = rf"(?:deployment |deploy )?(?:deployment/|deploy/)?{named('name')}"


class ScaleInputs(WorkflowInputs):
    kind: Literal["deployment", "asg", "ecs"] = Field(
        default="deployment", title="What to scale", description="deployment, asg or ecs"
    )
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)] = Field(
        title="Name", description="The Deployment, Auto Scaling group or ECS service"
    )
    count: Annotated[int, Field(ge=0, le=MAX_COUNT)] = Field(title="Replicas, instances or tasks")
    namespace: Namespace = "default"
    ecs_cluster: EcsCluster = None
    aws_environment: AwsEnvironment = None
    check: Check = None

    # Field validators, not a model validator, so a form shows each refusal beside its own field;
    # `kind` is declared first, so it is known when the others are checked.
    @field_validator("name")
    @classmethod
    def _name_fits_the_kind(cls, name: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if kind == "deployment" and not _is_kubernetes_name(name):
            raise ValueError("a Deployment name is lower-case letters, digits and dashes")
        if kind == "asg" and ":" in name:
            raise ValueError("an Auto Scaling group name has no colon")
        return name

    @field_validator("ecs_cluster")
    @classmethod
    def _ecs_needs_a_cluster(cls, cluster: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("kind") == "ecs" and cluster is None:
            raise ValueError("an ECS service needs its ecs_cluster")
        return cluster


class ScaleService(Workflow[ScaleInputs]):
    name: ClassVar[str] = "scale_service"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = (
        "Scale a Deployment, Auto Scaling group or ECS service to N and wait until it has N."
    )
    examples: ClassVar[tuple[str, ...]] = (
        "scale checkout to 5 in shop",
        "scale asg web-asg to 6",
        "scale ecs shop/checkout to 3",
    )
    inputs: ClassVar[type[ScaleInputs]] = ScaleInputs
    steps: ClassVar[tuple[StepDeclaration, ...]] = (
        StepDeclaration("scale", StepStage.ACT, _SCALE, "Set the replica, instance or task count"),
        StepDeclaration("wait", StepStage.VERIFY, _WAIT, "Wait until that many are ready"),
        StepDeclaration("check", StepStage.VERIFY, ("prometheus.query_threshold",), "Hold the PromQL check"),
    )
    sentences: ClassVar[tuple[Sentence, ...]] = (
        sentence(rf"scale {_DEPLOYMENT} to {_COUNT}(?: {_IN_NS})?", kind="deployment"),
        sentence(rf"scale {_DEPLOYMENT} {_IN_NS} to {_COUNT}", kind="deployment"),
        sentence(rf"scale {_ASG} to {_COUNT}", kind="asg"),
        sentence(rf"scale {_ECS} to {_COUNT}", kind="ecs"),
    )

    async def plan(self, inputs: ScaleInputs, context: PlanningContext) -> WorkflowPlan:
        scale, wait, target, summary = _by_kind(inputs)
        steps = [scale, wait]
        if inputs.check:
            steps.append(check_step("check", inputs.check, label=f"{inputs.name} check"))
        return WorkflowPlan(
            summary=summary,
            target=target,
            steps=steps,
            rollback="Scale back to the count read just before the change",
            targets=[_target_name(inputs)],
        )


def _by_kind(inputs: ScaleInputs) -> tuple[PlannedStep, PlannedStep, Target, str]:
    aws = {"environment": inputs.aws_environment} if inputs.aws_environment else {}
    if inputs.kind == "deployment":
        ref = {"namespace": inputs.namespace, "name": inputs.name}
        where = f"{inputs.namespace}/{inputs.name}"
        return (
            PlannedStep(
                "scale",
                "kubernetes.scale",
                {**ref, "replicas": inputs.count},
                f"Scale deployment {where} to {inputs.count}",
            ),
            PlannedStep("wait", "kubernetes.rollout_status", ref, f"Wait until {where} has rolled out"),
            Target(environment=inputs.environment, namespace=inputs.namespace, name=inputs.name),
            f"scale {inputs.name} to {inputs.count} replicas ({inputs.namespace})",
        )
    if inputs.kind == "asg":
        ref = {**aws, "group": inputs.name}
        return (
            PlannedStep(
                "scale",
                "aws.autoscaling_scale",
                {**ref, "desired_capacity": inputs.count},
                f"Set auto scaling group {inputs.name} to {inputs.count} instances",
            ),
            PlannedStep(
                "wait",
                "aws.autoscaling_wait",
                {**ref, "desired_capacity": inputs.count},
                f"Wait until {inputs.name} has {inputs.count} instances in service",
            ),
            Target(environment=inputs.environment, namespace="", kind="AutoScalingGroup", name=inputs.name),
            f"scale auto scaling group {inputs.name} to {inputs.count} instances",
        )
    cluster = inputs.ecs_cluster or ""
    ref = {**aws, "cluster": cluster, "service": inputs.name}
    return (
        PlannedStep(
            "scale",
            "aws.ecs_scale",
            {**ref, "desired_count": inputs.count},
            f"Set ECS service {cluster}/{inputs.name} to {inputs.count} tasks",
        ),
        PlannedStep(
            "wait",
            "aws.ecs_wait",
            {**ref, "desired_count": inputs.count},
            f"Wait until {cluster}/{inputs.name} runs {inputs.count} tasks",
        ),
        Target(environment=inputs.environment, namespace=cluster, kind="EcsService", name=inputs.name),
        f"scale ECS service {cluster}/{inputs.name} to {inputs.count} tasks",
    )


def _target_name(inputs: ScaleInputs) -> str:
    if inputs.kind == "deployment":
        return f"deployment/{inputs.namespace}/{inputs.name}"
    if inputs.kind == "asg":
        return f"asg/{inputs.name}"
    return f"ecs/{inputs.ecs_cluster}/{inputs.name}"


def _is_kubernetes_name(name: str) -> bool:
    return len(name) <= 63 and _KUBERNETES_NAME.fullmatch(name) is not None


_KUBERNETES_NAME = re.compile(NAME)
