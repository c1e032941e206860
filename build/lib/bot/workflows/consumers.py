"""The workloads that read a changed value only when they start: Kubernetes Deployments in one
namespace or ECS services in one cluster, restarted so they read it and then waited for until healthy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bot.domain import RiskLevel
from bot.workflows.base import PlannedStep


@dataclass(frozen=True)
class Consumers:
    kind: Literal["deployment", "ecs"]
    names: tuple[str, ...]
    # The Deployments' namespace or the services' ECS cluster.
    scope: str
    aws_environment: str | None = None

    @classmethod
    def deployments(cls, names: tuple[str, ...], *, namespace: str) -> Consumers:
        return cls("deployment", names, namespace)

    @classmethod
    def ecs(cls, names: tuple[str, ...], *, cluster: str, aws_environment: str | None) -> Consumers:
        return cls("ecs", names, cluster, aws_environment)

    @property
    def listed(self) -> str:
        return ", ".join(self.names)

    @property
    def targets(self) -> list[str]:
        prefix = "deployment" if self.kind == "deployment" else "ecs"
        return [f"{prefix}/{self.scope}/{name}" for name in self.names]

    def restarts(self, *, risk: RiskLevel, again_on_rollback: bool) -> list[PlannedStep]:
        """One restart step each. `again_on_rollback`: when the plan rolls back, each is restarted
        once more after the rest is undone, so it reads the restored value."""
        action = "kubernetes.rollout_restart" if self.kind == "deployment" else "aws.ecs_restart"
        return [
            PlannedStep(
                "restart",
                action,
                self._ref(name),
                f"Restart {self._what(name)} so it reads the new value",
                risk=risk,
                rerun_on_rollback=again_on_rollback,
            )
            for name in self.names
        ]

    def readiness(self) -> list[PlannedStep]:
        if self.kind == "deployment":
            return [
                PlannedStep(
                    "ready",
                    "kubernetes.rollout_status",
                    self._ref(name),
                    f"Wait until {self._what(name)} has rolled out",
                )
                for name in self.names
            ]
        return [
            PlannedStep(
                "ready",
                "aws.ecs_wait",
                self._ref(name),
                f"Wait until {self._what(name)} runs its tasks with the deployment finished",
            )
            for name in self.names
        ]

    def _ref(self, name: str) -> dict[str, Any]:
        if self.kind == "deployment":
            return {"namespace": self.scope, "name": name}
        aws = {"environment": self.aws_environment} if self.aws_environment else {}
        return {**aws, "cluster": self.scope, "service": name}

    def _what(self, name: str) -> str:
        if self.kind == "deployment":
            return f"deployment {self.scope}/{name}"
        return f"ECS service {self.scope}/{name}"
