"""Input fields several workflows share, with the label and hint their forms show."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from bot.workflows.checks import PromqlCheck
from bot.workflows.sentences import NAME

KubernetesName = Annotated[str, StringConstraints(max_length=63, pattern=rf"^{NAME}$")]
AwsName = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.-]+$")]

Namespace = Annotated[KubernetesName, Field(title="Namespace", description="Deployments only")]
# validate_default: a workflow checks that an ECS service names its cluster even when none is given.
EcsCluster = Annotated[
    AwsName | None, Field(validate_default=True, title="ECS cluster", description="ECS services only")
]
AwsEnvironment = Annotated[
    AwsName | None,
    Field(title="AWS environment", description="An AWS_ENVIRONMENTS name; empty: the base one"),
]
Check = Annotated[PromqlCheck | None, Field(title="PromQL check")]
