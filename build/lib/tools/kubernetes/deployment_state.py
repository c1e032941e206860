"""The facts about a Deployment that a person and a rollout check care about, read from its status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubernetes.client import V1Deployment

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"


@dataclass(frozen=True)
class DeploymentState:
    namespace: str
    name: str
    replicas: int
    current_replicas: int
    updated_replicas: int
    ready_replicas: int
    available_replicas: int
    unavailable_replicas: int
    generation: int
    observed_generation: int
    images: list[str]
    # The Progressing condition's message once its progress deadline passed, else "".
    stalled: str

    @classmethod
    def of(cls, deployment: V1Deployment) -> DeploymentState:
        # Not imported at the top: the action modules load at start-up, the client library only
        # with a cluster's first client, which made `deployment`.
        from kubernetes.client import V1DeploymentStatus

        # The API server omits zero counts, and status is absent until the controller writes it.
        status = deployment.status or V1DeploymentStatus()
        stalled = next(
            (
                c.message or c.reason
                for c in status.conditions or []
                if c.reason == "ProgressDeadlineExceeded"
            ),
            "",
        )
        spec = deployment.spec
        return cls(
            namespace=deployment.metadata.namespace,
            name=deployment.metadata.name,
            replicas=spec.replicas if spec.replicas is not None else 1,
            current_replicas=status.replicas or 0,
            updated_replicas=status.updated_replicas or 0,
            ready_replicas=status.ready_replicas or 0,
            available_replicas=status.available_replicas or 0,
            unavailable_replicas=status.unavailable_replicas or 0,
            generation=deployment.metadata.generation or 0,
            observed_generation=status.observed_generation or 0,
            images=[c.image for c in spec.template.spec.containers],
            stalled=stalled,
        )

    @property
    def observed(self) -> bool:
        return self.observed_generation >= self.generation

    @property
    def rolled_out(self) -> bool:
        """kubectl's rule: the controller saw this spec and every replica is new and available."""
        return (
            self.observed
            and self.updated_replicas == self.replicas
            and self.current_replicas == self.updated_replicas
            and self.available_replicas == self.replicas
            and self.unavailable_replicas == 0
        )

    @property
    def availability(self) -> str:
        return f"{self.available_replicas} of {self.replicas} replicas available"

    @property
    def ready(self) -> str:
        return f"{self.ready_replicas}/{self.replicas}"


def revision_of(annotations: dict[str, str] | None) -> int:
    """The `deployment.kubernetes.io/revision` a Deployment or ReplicaSet carries, 0 when it has none."""
    value = (annotations or {}).get(REVISION_ANNOTATION, "")
    return int(value) if value.isdigit() else 0
