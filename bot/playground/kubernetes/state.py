"""apps/v1 Deployments as the API server stores and validates them, their Scale subresource, and the
status the Deployment controller writes once it has acted on a spec."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.playground.kubernetes.objects import ObjectStore, now_rfc3339
from bot.playground.kubernetes.status import JSON, bad_request, invalid
from bot.playground.kubernetes.workloads import REVISION, Workloads, revision

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


@dataclass
class Stuck:
    available: int
    deadline_exceeded: bool


@dataclass
class Deployments:
    store: ObjectStore
    workloads: Workloads
    _stuck: dict[tuple[str, str], Stuck] = field(default_factory=dict)

    def add(
        self,
        namespace: str,
        name: str,
        *,
        replicas: int,
        image: str,
        annotations: dict[str, str] | None = None,
    ) -> JSON:
        labels = {"app": name}
        metadata: JSON = {"name": name, "namespace": namespace, "generation": 1, "labels": labels}
        if annotations:
            metadata["annotations"] = dict(annotations)
        deployment: JSON = {
            "kind": "Deployment",
            "apiVersion": "apps/v1",
            "metadata": metadata,
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": name, "image": image}]},
                },
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
                },
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
            },
            "status": {},
        }
        self.store.create("deployments", deployment)
        self.reconcile(namespace, name)
        return self.store.get("deployments", namespace, name)

    def replace(self, namespace: str, name: str, new: JSON, *, dry_run: bool) -> tuple[JSON, bool]:
        """A client's PUT or PATCH result, validated as apps/v1 validates it."""
        old = self.store.get("deployments", namespace, name)
        return self.store.replace(
            "deployments",
            namespace,
            name,
            new,
            dry_run=dry_run,
            validate=lambda merged: _validate(merged, old),
        )

    def set_stuck(self, namespace: str, name: str, stuck: Stuck | None) -> None:
        if stuck is None:
            self._stuck.pop((namespace, name), None)
        else:
            self._stuck[(namespace, name)] = stuck

    def reconcile(self, namespace: str, name: str) -> None:
        """One pass of the Deployment controller: roll the ReplicaSets and write the status the
        cluster has settled on."""
        deployment = self.store.get("deployments", namespace, name)
        stuck = self._stuck.get((namespace, name))
        desired = deployment["spec"]["replicas"]
        current = self.workloads.roll(
            deployment, ready=desired if stuck is None else min(stuck.available, desired)
        )
        updated = self.store.get("deployments", namespace, name)
        updated["metadata"].setdefault("annotations", {})[REVISION] = str(revision(current))
        updated["status"] = rollout_status(updated, current, stuck)
        if updated != deployment:
            self.store.update("deployments", updated)


def scale_of(deployment: JSON) -> JSON:
    """The autoscaling/v1 Scale view; zero replicas are omitted, as the real server omits them."""
    meta = deployment["metadata"]
    labels = deployment["spec"]["selector"]["matchLabels"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            key: meta[key] for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        },
        "spec": _omit_zero({"replicas": deployment["spec"]["replicas"]}),
        "status": {
            **_omit_zero({"replicas": deployment["status"].get("replicas", 0)}),
            "selector": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        },
    }


def deployment_with_scale(deployment: JSON, scale: JSON) -> JSON:
    """Apply a written Scale to its Deployment, validating it as the scale subresource does."""
    name = deployment["metadata"]["name"]
    replicas = scale.get("spec", {}).get("replicas", 0)
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        raise bad_request(f"json: cannot unmarshal {type(replicas).__name__} into Go struct field")
    if replicas < 0:
        raise invalid("Scale", "autoscaling", name, "spec.replicas", _negative(replicas))
    deployment["spec"]["replicas"] = replicas
    scale_rv = scale.get("metadata", {}).get("resourceVersion")
    deployment["metadata"]["resourceVersion"] = scale_rv or ""
    return deployment


def rollout_status(deployment: JSON, replica_set: JSON, stuck: Stuck | None) -> JSON:
    """What the controller reports once it has acted on the current spec; the ready count is the
    current ReplicaSet's ready pods."""
    name = replica_set["metadata"]["name"]
    desired = deployment["spec"]["replicas"]
    available = replica_set["status"].get("availableReplicas", 0)
    min_available = desired - (desired // 4)  # maxUnavailable 25%, rounded down
    now = now_rfc3339()
    if stuck is None:
        progressing = ("True", "NewReplicaSetAvailable", f'ReplicaSet "{name}" has successfully progressed.')
    elif stuck.deadline_exceeded:
        progressing = ("False", "ProgressDeadlineExceeded", f'ReplicaSet "{name}" has timed out progressing.')
    else:
        progressing = ("True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.')
    if available >= min_available:
        availability = ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
    else:
        message = "Deployment does not have minimum availability."
        availability = ("False", "MinimumReplicasUnavailable", message)
    conditions = [
        _condition("Available", *availability, now),
        _condition("Progressing", *progressing, now),
    ]
    counts = {
        "replicas": desired,
        "updatedReplicas": desired,
        "readyReplicas": available,
        "availableReplicas": available,
        "unavailableReplicas": desired - available,
    }
    status = {"observedGeneration": deployment["metadata"]["generation"], **_omit_zero(counts)}
    return {**status, "conditions": conditions}


def _condition(kind: str, status: str, reason: str, message: str, now: str) -> JSON:
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def _validate(deployment: JSON, old: JSON) -> None:
    name = old["metadata"]["name"]
    spec = deployment.get("spec")
    if not isinstance(spec, dict):
        raise invalid("Deployment", "apps", name, "spec", "Required value")
    replicas = spec.get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        raise bad_request("json: cannot unmarshal spec.replicas into Go value of type int32")
    if replicas < 0:
        raise invalid("Deployment", "apps", name, "spec.replicas", _negative(replicas))
    template = spec.get("template", {})
    containers = template.get("spec", {}).get("containers")
    if not containers or not all(c.get("name") and c.get("image") for c in containers):
        raise invalid("Deployment", "apps", name, "spec.template.spec.containers", "Required value")
    if spec.get("selector") != old["spec"]["selector"]:
        labels = _go_map((spec.get("selector") or {}).get("matchLabels") or {})
        selector = (
            f"v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}}"
        )
        detail = f"Invalid value: {selector}: field is immutable"
        raise invalid("Deployment", "apps", name, "spec.selector", detail)
    labels = template.get("metadata", {}).get("labels") or {}
    if any(labels.get(key) != value for key, value in spec["selector"]["matchLabels"].items()):
        detail = f"Invalid value: {_go_map(labels)}: `selector` does not match template `labels`"
        raise invalid("Deployment", "apps", name, "spec.template.metadata.labels", detail)


def _go_map(labels: dict[str, str]) -> str:
    """A label map as the API server's messages print it (Go's %#v)."""
    pairs = ", ".join(f'"{key}":"{value}"' for key, value in sorted(labels.items()))
    return f"map[string]string{{{pairs}}}"


def _negative(value: int) -> str:
    return f"Invalid value: {value}: must be greater than or equal to 0"


def _omit_zero(counts: dict[str, int]) -> dict[str, int]:
    return {key: value for key, value in counts.items() if value}
