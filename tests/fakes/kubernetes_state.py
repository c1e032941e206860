"""The fake Kubernetes API server's state: Deployments as the API server stores them, patches,
Status errors and the statuses a Deployment controller would write.

Everything here is synchronous and in-memory; `tests/fakes/kubernetes.py` puts it on the wire.
"""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

JSON = dict[str, Any]

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
REVISION = "deployment.kubernetes.io/revision"

# Strategic merge patch merges these lists by key instead of replacing them (patchMergeKey).
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
}
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


class ApiError(Exception):
    """An API server failure, carried as the `Status` object the real server would answer with."""

    def __init__(self, status: JSON) -> None:
        super().__init__(status["message"])
        self.status = status

    @property
    def code(self) -> int:
        return int(self.status["code"])


def status_error(code: int, reason: str, message: str, details: JSON | None = None) -> ApiError:
    status: JSON = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        status["details"] = details
    status["code"] = code
    return ApiError(status)


def not_found(name: str) -> ApiError:
    details = {"name": name, "group": "apps", "kind": "deployments"}
    return status_error(404, "NotFound", f'deployments.apps "{name}" not found', details)


def conflict(name: str) -> ApiError:
    message = (
        f'Operation cannot be fulfilled on deployments.apps "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again"
    )
    details = {"name": name, "group": "apps", "kind": "deployments"}
    return status_error(409, "Conflict", message, details)


def bad_request(message: str) -> ApiError:
    return status_error(400, "BadRequest", message)


def injected(code: int, name: str) -> ApiError:
    """The Status for a fault a test asked for with `fail_next`."""
    if code == 409:
        return conflict(name)
    if code == 500:
        details = {"causes": [{"message": "injected fault"}]}
        return status_error(500, "InternalError", "Internal error occurred: injected fault", details)
    phrase = HTTPStatus(code).phrase
    return status_error(code, phrase.replace(" ", ""), f"injected fault: {phrase}")


def invalid(kind: str, group: str, name: str, field_path: str, detail: str) -> ApiError:
    message = f'{kind}.{group} "{name}" is invalid: {field_path}: {detail}'
    cause = {"reason": "FieldValueInvalid", "message": detail, "field": field_path}
    details = {"name": name, "group": group, "kind": kind, "causes": [cause]}
    return status_error(422, "Invalid", message, details)


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Stuck:
    available: int
    deadline_exceeded: bool


@dataclass
class _Entry:
    obj: JSON
    template_hash: str
    stuck: Stuck | None = None


@dataclass
class DeploymentStore:
    """Deployments keyed by (namespace, name); `revision` plays etcd's global resourceVersion."""

    revision: int = 1
    _entries: dict[tuple[str, str], _Entry] = field(default_factory=dict)

    def add(self, namespace: str, name: str, *, replicas: int, image: str) -> JSON:
        labels = {"app": name}
        template = {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": name, "image": image}]},
        }
        obj: JSON = {
            "kind": "Deployment",
            "apiVersion": "apps/v1",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": str(uuid.uuid4()),
                "generation": 1,
                "creationTimestamp": now_rfc3339(),
                "labels": labels,
                "annotations": {REVISION: "1"},
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": template,
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
                },
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
            },
            "status": {},
        }
        entry = _Entry(obj, _template_hash(template))
        entry.obj["status"] = rollout_status(entry.obj, entry.template_hash, None)
        self._entries[(namespace, name)] = entry
        self._bump(entry.obj)
        return copy.deepcopy(entry.obj)

    def get(self, namespace: str, name: str) -> JSON:
        return copy.deepcopy(self._entry(namespace, name).obj)

    def list(self, namespace: str) -> list[JSON]:
        return [copy.deepcopy(e.obj) for (ns, _), e in sorted(self._entries.items()) if ns == namespace]

    def replace(self, namespace: str, name: str, new: JSON, *, dry_run: bool) -> tuple[JSON, bool]:
        """Store `new` as the API server would; returns the stored object and whether spec changed.

        A non-empty metadata.resourceVersion in `new` is a precondition (409 when stale); server
        owned fields (uid, generation, status, ...) are kept from the stored object.
        """
        entry = self._entry(namespace, name)
        old = entry.obj
        expected = new.get("metadata", {}).get("resourceVersion")
        if expected and expected != old["metadata"]["resourceVersion"]:
            raise conflict(name)
        merged = _with_server_fields(new, old)
        _validate(merged, name)
        spec_changed = merged["spec"] != old["spec"]
        if spec_changed:
            merged["metadata"]["generation"] = old["metadata"]["generation"] + 1
        if merged == old:
            return copy.deepcopy(old), False
        if dry_run:
            merged["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            return merged, spec_changed
        entry.obj = merged
        self._bump(merged)
        return copy.deepcopy(merged), spec_changed

    def set_stuck(self, namespace: str, name: str, stuck: Stuck | None) -> None:
        self._entry(namespace, name).stuck = stuck

    def reconcile(self, namespace: str, name: str) -> None:
        """One pass of the Deployment controller: write the status the cluster has settled on."""
        entry = self._entry(namespace, name)
        template_hash = _template_hash(entry.obj["spec"]["template"])
        if template_hash != entry.template_hash:
            annotations = entry.obj["metadata"]["annotations"]
            annotations[REVISION] = str(int(annotations.get(REVISION, "0")) + 1)
            entry.template_hash = template_hash
        status = rollout_status(entry.obj, template_hash, entry.stuck)
        if status != entry.obj["status"]:
            entry.obj["status"] = status
            self._bump(entry.obj)

    def _entry(self, namespace: str, name: str) -> _Entry:
        try:
            return self._entries[(namespace, name)]
        except KeyError:
            raise not_found(name) from None

    def _bump(self, obj: JSON) -> None:
        self.revision += 1
        obj["metadata"]["resourceVersion"] = str(self.revision)


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
    updated = copy.deepcopy(deployment)
    updated["spec"]["replicas"] = replicas
    scale_rv = scale.get("metadata", {}).get("resourceVersion")
    updated["metadata"]["resourceVersion"] = scale_rv or ""
    return updated


def apply_patch(obj: JSON, patch: Any, content_type: str) -> JSON:
    if content_type == "application/json-patch+json":
        return _json_patch(obj, patch)
    if not isinstance(patch, dict):
        raise bad_request("error decoding patch: patch is not a JSON object")
    strategic = content_type == "application/strategic-merge-patch+json"
    return _merge(obj, patch, strategic=strategic)


def rollout_status(deployment: JSON, template_hash: str, stuck: Stuck | None) -> JSON:
    """What the controller reports once it has acted on the current spec."""
    name = deployment["metadata"]["name"]
    desired = deployment["spec"]["replicas"]
    available = desired if stuck is None else min(stuck.available, desired)
    replica_set = f'ReplicaSet "{name}-{template_hash}"'
    min_available = desired - (desired // 4)  # maxUnavailable 25%, rounded down
    now = now_rfc3339()
    if stuck is None:
        progressing = ("True", "NewReplicaSetAvailable", f"{replica_set} has successfully progressed.")
    elif stuck.deadline_exceeded:
        progressing = ("False", "ProgressDeadlineExceeded", f"{replica_set} has timed out progressing.")
    else:
        progressing = ("True", "ReplicaSetUpdated", f"{replica_set} is progressing.")
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


def _with_server_fields(new: JSON, old: JSON) -> JSON:
    merged = copy.deepcopy(new)
    merged["kind"], merged["apiVersion"] = "Deployment", "apps/v1"
    meta = merged.setdefault("metadata", {})
    for key in ("name", "namespace", "uid", "generation", "creationTimestamp"):
        meta[key] = old["metadata"][key]
    meta["resourceVersion"] = old["metadata"]["resourceVersion"]
    merged["status"] = copy.deepcopy(old["status"])
    return merged


def _validate(deployment: JSON, name: str) -> None:
    spec = deployment.get("spec")
    if not isinstance(spec, dict):
        raise invalid("Deployment", "apps", name, "spec", "Required value")
    replicas = spec.get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        raise bad_request("json: cannot unmarshal spec.replicas into Go value of type int32")
    if replicas < 0:
        raise invalid("Deployment", "apps", name, "spec.replicas", _negative(replicas))
    containers = spec.get("template", {}).get("spec", {}).get("containers")
    if not containers or not all(c.get("name") and c.get("image") for c in containers):
        path = "spec.template.spec.containers"
        raise invalid("Deployment", "apps", name, path, "Required value")


def _negative(value: int) -> str:
    return f"Invalid value: {value}: must be greater than or equal to 0"


def _omit_zero(counts: dict[str, int]) -> dict[str, int]:
    return {key: value for key, value in counts.items() if value}


def _template_hash(template: JSON) -> str:
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(_SAFE_ALPHABET[b % len(_SAFE_ALPHABET)] for b in digest[:10])


def _merge(target: Any, patch: JSON, *, strategic: bool) -> JSON:
    """RFC 7386 merge patch; with `strategic`, lists named in _MERGE_KEYS merge item by item."""
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            result[key] = _merge(result.get(key), value, strategic=strategic)
        elif strategic and key in _MERGE_KEYS and isinstance(value, list):
            result[key] = _merge_list(result.get(key, []), value, _MERGE_KEYS[key])
        else:
            result[key] = copy.deepcopy(value)
    return result


def _merge_list(current: list[JSON], patch: list[JSON], key: str) -> list[JSON]:
    merged = [copy.deepcopy(item) for item in current]
    for item in patch:
        position = next((i for i, old in enumerate(merged) if old.get(key) == item.get(key)), None)
        if position is None:
            merged.append(copy.deepcopy(item))
        else:
            merged[position] = _merge(merged[position], item, strategic=True)
    return merged


def _json_patch(obj: JSON, operations: Any) -> JSON:
    """RFC 6902 add/replace/remove/test, enough for the patches kubectl and clients send."""
    if not isinstance(operations, list):
        raise bad_request("error decoding patch: json patch must be a list of operations")
    result = copy.deepcopy(obj)
    for operation in operations:
        op, path = operation.get("op"), operation.get("path", "")
        parent, leaf = _resolve_parent(result, path)
        if op in ("add", "replace"):
            if op == "replace" and leaf not in parent:
                raise _patch_failed(f"replace operation does not apply: doc is missing key: {path}")
            parent[leaf] = copy.deepcopy(operation.get("value"))
        elif op == "remove":
            if parent.pop(leaf, None) is None:
                raise _patch_failed(f"remove operation does not apply: doc is missing path: {path}")
        elif op == "test":
            if parent.get(leaf) != operation.get("value"):
                raise _patch_failed(f"testing value {path} failed")
        else:
            raise bad_request(f"the server rejected our request: unsupported op {op!r}")
    return result


def _resolve_parent(doc: JSON, path: str) -> tuple[JSON, str]:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
    if not parts:
        raise bad_request(f"error decoding patch: invalid path {path!r}")
    parent: Any = doc
    for part in parts[:-1]:
        if not isinstance(parent, dict) or part not in parent:
            raise _patch_failed(f"doc is missing path: {path}")
        parent = parent[part]
    if not isinstance(parent, dict):
        raise _patch_failed(f"path {path} does not point into an object")
    return parent, parts[-1]


def _patch_failed(message: str) -> ApiError:
    return status_error(422, "Invalid", message)
