"""The fake Argo CD's world: a git repository of manifests per application, the live cluster objects,
and the application controller that runs sync operations between them.

Documents are rendered in Argo CD's shapes (Application, ApplicationTree, ManagedResourcesResponse);
`tests/fakes/argocd.py` serves them over HTTP.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.git_remote import BareRemote

JSON = dict[str, Any]
Key = tuple[str, str, str, str]  # group, kind, namespace, name

CLUSTER = "https://kubernetes.default.svc"
# The username a token for the "carapulse" local account acts as.
USERNAME = "carapulse"


def deployment(name: str, namespace: str, *, image: str, replicas: int = 2) -> JSON:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": image}]},
            },
        },
    }


def service(name: str, namespace: str, *, port: int = 80) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"app": name}, "ports": [{"port": port, "targetPort": 8080}]},
    }


def config_map(name: str, namespace: str, data: dict[str, str]) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    }


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class GitSource:
    """An application rendered from a real repository: the manifests of a commit are `render` of the
    YAML in `values_file` there (a stand-in for a Helm chart's templates)."""

    remote: BareRemote
    values_file: str
    render: Callable[[Any], list[JSON]]


@dataclass
class FakeApp:
    name: str
    namespace: str  # where the Application object lives
    destination: str  # where its resources go
    repo_url: str
    path: str
    target_revision: str
    commits: dict[str, list[JSON]]
    head: str  # the commit target_revision points at
    live: dict[Key, JSON]
    history: list[JSON] = field(default_factory=list)
    auto_sync: bool = False
    degraded: set[str] = field(default_factory=set)
    operation: JSON | None = None
    operation_state: JSON | None = None
    requested_at: float = 0.0
    held: bool = False
    git: GitSource | None = None

    def resolve(self, revision: str) -> str | None:
        """A branch resolves to its head; a commit to itself; anything else is unknown."""
        if revision in ("", "HEAD", self.target_revision):
            return self.head
        return revision if revision in self.commits else None

    @property
    def synced_revision(self) -> str:
        return self.history[-1]["revision"] if self.history else ""

    @property
    def in_sync(self) -> bool:
        return self.live == keyed(self.commits[self.head])

    def health(self) -> JSON:
        if self.synced_revision in self.degraded:
            deployments = [key for key in self.live if key[1] == "Deployment"]
            name = deployments[0][3] if deployments else self.name
            return {"status": "Degraded", "message": f'Deployment "{name}" exceeded its progress deadline'}
        return {"status": "Healthy"}

    def request(self, operation: JSON, started: float) -> None:
        self.operation = operation
        self.requested_at = started
        self.operation_state = {"operation": operation, "phase": "Running", "message": "", "startedAt": now()}

    def finish(self) -> None:
        """Run the requested operation as the application controller would."""
        operation = self.operation or {}
        sync = operation.get("sync") or {}
        wanted = str(sync.get("revision") or self.target_revision)
        revision = self.resolve(wanted)
        state = dict(self.operation_state or {}, finishedAt=now())
        self.operation = None
        if revision is None:
            message = f"ComparisonError: unable to resolve '{wanted}' to a commit SHA"
            self.operation_state = state | {"phase": "Error", "message": message}
            return
        target = keyed(self.commits[revision])
        dry_run, prune = bool(sync.get("dryRun")), bool(sync.get("prune"))
        results = [
            self._result(key, target, dry_run=dry_run, prune=prune) for key in sorted(target | self.live)
        ]
        if not dry_run:
            self._apply(target, prune=prune, revision=revision, initiated=operation.get("initiatedBy") or {})
        sync_result = {"resources": results, "revision": revision, "source": self.source()}
        message = "successfully synced (all tasks run)"
        self.operation_state = state | {"phase": "Succeeded", "message": message, "syncResult": sync_result}

    def source(self) -> JSON:
        return {"repoURL": self.repo_url, "path": self.path, "targetRevision": self.target_revision}

    def _result(self, key: Key, target: dict[Key, JSON], *, dry_run: bool, prune: bool) -> JSON:
        group, kind, namespace, name = key
        resource = {"group": group, "version": "v1", "kind": kind, "namespace": namespace, "name": name}
        noun = f"{kind.lower()}.{group}/{name}" if group else f"{kind.lower()}/{name}"
        suffix = " (dry run)" if dry_run else ""
        if key not in target:
            if not prune:
                return resource | {"status": "PruneSkipped", "message": "ignored (requires pruning)"}
            return resource | {"status": "Pruned", "message": f"pruned{suffix}", "syncPhase": "Sync"}
        verb = (
            "created"
            if key not in self.live
            else "unchanged"
            if self.live[key] == target[key]
            else "configured"
        )
        return resource | {"status": "Synced", "message": f"{noun} {verb}{suffix}", "syncPhase": "Sync"}

    def _apply(self, target: dict[Key, JSON], *, prune: bool, revision: str, initiated: JSON) -> None:
        kept = {key: obj for key, obj in self.live.items() if key not in target and not prune}
        self.live = copy.deepcopy(target) | kept
        next_id = self.history[-1]["id"] + 1 if self.history else 0
        stamp = now()
        self.history.append(
            {
                "id": next_id,
                "revision": revision,
                "deployedAt": stamp,
                "deployStartedAt": stamp,
                "source": self.source(),
                "initiatedBy": initiated,
            }
        )


def keyed(manifests: list[JSON]) -> dict[Key, JSON]:
    return {key_of(manifest): copy.deepcopy(manifest) for manifest in manifests}


def key_of(manifest: JSON) -> Key:
    api_version = manifest["apiVersion"]
    group = api_version.split("/")[0] if "/" in api_version else ""
    metadata = manifest["metadata"]
    return group, manifest["kind"], metadata.get("namespace", ""), metadata["name"]


def application(app: FakeApp) -> JSON:
    """The Application document GET /api/v1/applications/{name} answers with."""
    compared = {"source": app.source(), "destination": {"server": CLUSTER, "namespace": app.destination}}
    status: JSON = {
        "sync": {
            "status": "Synced" if app.in_sync else "OutOfSync",
            "revision": app.head,
            "comparedTo": compared,
        },
        "health": app.health(),
        "history": copy.deepcopy(app.history),
        "resources": [_resource_status(app, key) for key in sorted(app.live)],
        "summary": {"images": sorted(_images(app.live.values()))},
        "reconciledAt": now(),
        "sourceType": "Directory",
    }
    if app.operation_state is not None:
        status["operationState"] = copy.deepcopy(app.operation_state)
    policy = {"automated": {"prune": False, "selfHeal": False}} if app.auto_sync else {}
    document: JSON = {
        "metadata": {
            "name": app.name,
            "namespace": app.namespace,
            "uid": f"uid-{app.name}",
            "resourceVersion": "1",
        },
        "spec": {
            "project": "default",
            "source": app.source(),
            "destination": {"server": CLUSTER, "namespace": app.destination},
            "syncPolicy": policy,
        },
        "status": status,
    }
    if app.operation is not None:
        document["operation"] = copy.deepcopy(app.operation)
    return document


def resource_tree(app: FakeApp) -> JSON:
    """Nodes for every live object; a Deployment brings its ReplicaSet and Pods, as the cluster would."""
    nodes = []
    health = app.health()
    for key, obj in sorted(app.live.items()):
        group, kind, namespace, name = key
        node = _node(group, kind, namespace, name)
        if kind == "Deployment":
            node["health"] = health
            replica_set = _node("apps", "ReplicaSet", namespace, f"{name}-5d9c7b", parent=node) | {
                "health": health
            }
            pod_health = (
                {"status": "Healthy"}
                if health["status"] == "Healthy"
                else {
                    "status": "Degraded",
                    "message": "Back-off pulling image",
                }
            )
            pods = [
                _node("", "Pod", namespace, f"{name}-5d9c7b-{index}", parent=replica_set)
                | {"health": pod_health}
                for index in range(obj["spec"]["replicas"])
            ]
            nodes.extend([node, replica_set, *pods])
        elif kind == "Service":
            nodes.append(node | {"health": {"status": "Healthy"}})
        else:
            nodes.append(node)
    return {"nodes": nodes, "orphanedNodes": [], "hosts": []}


def managed_resources(app: FakeApp) -> JSON:
    """The ManagedResourcesResponse: each side as a JSON string, "null" where it does not exist."""
    target = keyed(app.commits[app.head])
    items = []
    for key in sorted(target | app.live):
        group, kind, namespace, name = key
        live = _with_server_fields(app.live[key]) if key in app.live else None
        wanted = target.get(key)
        predicted = None if wanted is None else (_with_server_fields(wanted) if live is not None else wanted)
        items.append(
            {
                "group": group,
                "kind": kind,
                "namespace": namespace,
                "name": name,
                "targetState": json.dumps(wanted),
                "liveState": json.dumps(live),
                "normalizedLiveState": json.dumps(live),
                "predictedLiveState": json.dumps(predicted),
                "hook": False,
                "modified": key in app.live and wanted is not None and app.live[key] != wanted,
                "resourceVersion": "1" if live is not None else "",
            }
        )
    return {"items": items}


def _node(group: str, kind: str, namespace: str, name: str, *, parent: JSON | None = None) -> JSON:
    node: JSON = {
        "group": group,
        "version": "v1",
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "uid": f"uid-{kind}-{name}".lower(),
        "resourceVersion": "1",
    }
    if parent is not None:
        keys = ("group", "kind", "namespace", "name", "uid")
        node["parentRefs"] = [{k: parent[k] for k in keys}]
    return node


def _resource_status(app: FakeApp, key: Key) -> JSON:
    group, kind, namespace, name = key
    target = keyed(app.commits[app.head])
    synced = "Synced" if target.get(key) == app.live[key] else "OutOfSync"
    return {
        "group": group,
        "version": "v1",
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "status": synced,
    }


def _images(objects: Any) -> set[str]:
    return {
        container["image"]
        for obj in objects
        if obj["kind"] == "Deployment"
        for container in obj["spec"]["template"]["spec"]["containers"]
    }


def _with_server_fields(obj: JSON) -> JSON:
    """What the API server adds to an object it stores: metadata it owns and a status."""
    live = copy.deepcopy(obj)
    live["metadata"] |= {
        "uid": f"uid-{obj['kind']}-{obj['metadata']['name']}".lower(),
        "resourceVersion": "1",
        "generation": 1,
        "creationTimestamp": "2024-05-01T12:00:00Z",
    }
    annotations = live["metadata"].get("annotations", {})
    live["metadata"]["annotations"] = annotations | {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(obj)
    }
    if obj["kind"] == "Deployment":
        replicas = obj["spec"]["replicas"]
        live["status"] = {"replicas": replicas, "readyReplicas": replicas, "observedGeneration": 1}
    return live
