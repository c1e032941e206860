"""A Deployment's rollout history: the ReplicaSets it controls, one per pod template, each numbered by
its `deployment.kubernetes.io/revision` annotation, as `kubectl rollout history` reads them."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tools.common.base import ToolError
from tools.kubernetes.deployment_state import REVISION_ANNOTATION, revision_of
from tools.kubernetes.resources import JSON
from tools.kubernetes.selectors import selector_string

if TYPE_CHECKING:
    from kubernetes.client import V1Deployment, V1ReplicaSet

    from tools.kubernetes.client import KubernetesClient

POD_TEMPLATE_HASH = "pod-template-hash"
# Annotations that describe a ReplicaSet's own rollout bookkeeping; `kubectl rollout undo` keeps the
# Deployment's values of these and copies every other annotation from the ReplicaSet.
BOOKKEEPING_ANNOTATIONS = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION_ANNOTATION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)


@dataclass(frozen=True)
class Revision:
    number: int
    replica_set: str
    replicas: int
    ready_replicas: int
    images: list[str]
    # The pod template without the pod-template-hash label the controller adds to it.
    template: JSON = field(repr=False)
    annotations: dict[str, str] = field(repr=False)

    def summary(self) -> dict[str, Any]:
        return {
            "revision": self.number,
            "replica_set": self.replica_set,
            "replicas": self.replicas,
            "ready_replicas": self.ready_replicas,
            "images": self.images,
        }


async def history(client: KubernetesClient, deployment: V1Deployment) -> list[Revision]:
    """The revisions of `deployment`, newest first: ReplicaSets its selector matches that name it as
    their controller (a matching ReplicaSet another owner controls is not part of its history)."""
    meta = deployment.metadata
    selector = selector_string(deployment.spec.selector, owner=f"deployment {meta.namespace}/{meta.name}")
    replica_sets = await client.list_replica_sets(meta.namespace, label_selector=selector)
    owned = [rs for rs in replica_sets if _controller_uid(rs) == meta.uid]
    revisions = [_revision(client, rs) for rs in owned]
    return sorted(revisions, key=lambda revision: revision.number, reverse=True)


def target_revision(revisions: list[Revision], *, wanted: int | None, ref: str) -> Revision:
    """The revision asked for, or `kubectl rollout undo`'s default: the second newest."""
    if wanted is not None:
        for revision in revisions:
            if revision.number == wanted:
                return revision
        known = ", ".join(str(r.number) for r in revisions) or "none"
        raise ToolError(f"deployment {ref} has no revision {wanted} (revisions: {known})")
    if len(revisions) < 2:
        raise ToolError(f"deployment {ref} has no previous revision to roll back to")
    return revisions[1]


def template_of(client: KubernetesClient, deployment: V1Deployment) -> JSON:
    return _without_hash(client.to_json(deployment.spec.template))


def restored_annotations(deployment: V1Deployment, revision: Revision) -> dict[str, str]:
    """The Deployment's annotations after the undo: its own bookkeeping, the revision's everything else."""
    own = deployment.metadata.annotations or {}
    kept = {key: value for key, value in own.items() if key in BOOKKEEPING_ANNOTATIONS}
    copied = {k: v for k, v in revision.annotations.items() if k not in BOOKKEEPING_ANNOTATIONS}
    return {**kept, **copied}


def _revision(client: KubernetesClient, replica_set: V1ReplicaSet) -> Revision:
    template = _without_hash(client.to_json(replica_set.spec.template))
    containers = template.get("spec", {}).get("containers", [])
    status = replica_set.status
    return Revision(
        number=revision_of(replica_set.metadata.annotations),
        replica_set=replica_set.metadata.name,
        replicas=(status.replicas or 0) if status else 0,
        ready_replicas=(status.ready_replicas or 0) if status else 0,
        images=[str(c.get("image", "")) for c in containers],
        template=template,
        annotations=dict(replica_set.metadata.annotations or {}),
    )


def _controller_uid(replica_set: V1ReplicaSet) -> str | None:
    owners = replica_set.metadata.owner_references or []
    return next((owner.uid for owner in owners if owner.controller), None)


def _without_hash(template: JSON) -> JSON:
    template = copy.deepcopy(template)
    labels = template.get("metadata", {}).get("labels")
    if labels:
        labels.pop(POD_TEMPLATE_HASH, None)
    return template
