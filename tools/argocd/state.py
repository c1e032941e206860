"""Argo CD's JSON read into the facts a plan card and a verify step need: sync and health, the
deployment history, what a sync would change, and the health of the resource tree.

Pure functions over the API's documents; `tools/argocd/actions.py` does the I/O.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

JSON = dict[str, Any]

SYNCED = "Synced"
HEALTHY = "Healthy"
# An operation in these phases is still changing the cluster; wait for it before judging.
RUNNING_PHASES = frozenset({"Running", "Terminating"})
FAILED_PHASES = frozenset({"Failed", "Error"})

# Fields the API server owns: they differ between live and target on every object, so they are noise.
_SERVER_METADATA = frozenset(
    {"managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "selfLink"}
)
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_MAX_FIELDS = 10
_MAX_VALUE = 60


@dataclass(frozen=True)
class HistoryEntry:
    """One deployment in `status.history`; `id` is what POST .../rollback takes."""

    id: int
    revision: str
    deployed_at: str
    initiated_by: str

    @classmethod
    def of(cls, entry: JSON) -> HistoryEntry:
        initiated = entry.get("initiatedBy") or {}
        who = "automated" if initiated.get("automated") else initiated.get("username", "")
        return cls(
            id=int(entry.get("id") or 0),  # a serialiser that omits zero values drops id 0
            revision=_revision(entry.get("revision"), entry.get("revisions")),
            deployed_at=str(entry.get("deployedAt", "")),
            initiated_by=str(who),
        )


@dataclass(frozen=True)
class OperationState:
    """The last (or current) sync operation the application controller ran."""

    phase: str
    message: str
    dry_run: bool
    revision: str
    resources: list[JSON]

    @classmethod
    def of(cls, state: JSON) -> OperationState:
        sync = (state.get("operation") or {}).get("sync") or {}
        result = state.get("syncResult") or {}
        return cls(
            phase=str(state.get("phase", "")),
            message=str(state.get("message", "")),
            dry_run=bool(sync.get("dryRun", False)),
            revision=_revision(result.get("revision") or sync.get("revision"), result.get("revisions")),
            resources=list(result.get("resources") or []),
        )

    @property
    def finished(self) -> bool:
        return self.phase not in RUNNING_PHASES


@dataclass(frozen=True)
class AppState:
    name: str
    project: str
    repo_url: str
    path: str
    target_revision: str
    sync_status: str
    revision: str
    health_status: str
    health_message: str
    auto_sync: bool
    # The API server stores a requested operation in `operation` until the controller starts it.
    operation_pending: bool
    operation: OperationState | None
    history: list[HistoryEntry]
    images: list[str]
    conditions: list[str]

    @classmethod
    def of(cls, app: JSON) -> AppState:
        spec, status = app.get("spec") or {}, app.get("status") or {}
        source = spec.get("source") or next(iter(spec.get("sources") or []), {})
        sync, health = status.get("sync") or {}, status.get("health") or {}
        operation = status.get("operationState")
        return cls(
            name=str((app.get("metadata") or {}).get("name", "")),
            project=str(spec.get("project", "")),
            repo_url=str(source.get("repoURL", "")),
            path=str(source.get("path") or source.get("chart") or ""),
            target_revision=str(source.get("targetRevision") or "HEAD"),
            sync_status=str(sync.get("status", "Unknown")),
            revision=_revision(sync.get("revision"), sync.get("revisions")),
            health_status=str(health.get("status", "Unknown")),
            health_message=str(health.get("message", "")),
            auto_sync=bool((spec.get("syncPolicy") or {}).get("automated")),
            operation_pending=bool(app.get("operation")),
            operation=OperationState.of(operation) if operation else None,
            history=[HistoryEntry.of(entry) for entry in status.get("history") or []],
            images=list((status.get("summary") or {}).get("images") or []),
            conditions=[str(c.get("message", "")) for c in status.get("conditions") or []],
        )

    @property
    def current(self) -> HistoryEntry | None:
        """The deployment that is live now: the newest history entry."""
        return self.history[-1] if self.history else None

    @property
    def settled(self) -> bool:
        return not self.operation_pending and (self.operation is None or self.operation.finished)

    @property
    def converged(self) -> bool:
        return self.settled and self.sync_status == SYNCED and self.health_status == HEALTHY

    @property
    def failed_operation(self) -> OperationState | None:
        """The last real (not dry-run) operation when it failed and nothing newer is queued: waiting
        will not fix it."""
        operation = self.operation
        if (
            self.settled
            and operation is not None
            and not operation.dry_run
            and operation.phase in FAILED_PHASES
        ):
            return operation
        return None

    def line(self) -> str:
        """One phrase for the card: "OutOfSync with 1a2b3c4, Degraded, operation Running", where the
        revision is the target's commit that the live state was compared with."""
        text = f"{self.sync_status} with {short(self.revision)}, {self.health_status}"
        if self.operation_pending:
            return f"{text}, operation queued"
        if self.operation is not None and not self.operation.finished:
            return f"{text}, operation {self.operation.phase}"
        return text

    def data(self) -> JSON:
        """Everything for a verify step, except the per-resource results of the last operation, which
        grow with the application; their count stays."""
        data = asdict(self)
        if data["operation"] is not None:
            data["operation"]["resource_count"] = len(data["operation"].pop("resources"))
        return data


@dataclass(frozen=True)
class ResourceChange:
    """One resource a sync would touch, with the fields whose values would change."""

    group: str
    kind: str
    namespace: str
    name: str
    change: Literal["create", "update", "prune"]
    fields: list[str]

    @property
    def ref(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"


def changes_of(items: list[JSON]) -> list[ResourceChange]:
    """The resources in a ManagedResourcesResponse whose live and target state differ.

    Argo CD's own `modified` flag decides for resources present on both sides, because it applies the
    app's ignoreDifferences and normalisation; the listed fields compare the normalised live state with
    the predicted one, as the UI's diff does. Hooks run on every sync and are left out.
    """
    changes = []
    for item in items:
        if item.get("hook"):
            continue
        target = _document(item.get("predictedLiveState")) or _document(item.get("targetState"))
        live = _document(item.get("normalizedLiveState")) or _document(item.get("liveState"))
        change: Literal["create", "update", "prune"]
        if live is None and target is not None:
            change, fields = "create", []
        elif target is None and live is not None:
            change, fields = "prune", []
        elif item.get("modified") and live is not None and target is not None:
            change, fields = "update", _field_changes(live, target, secret=item.get("kind") == "Secret")
        else:
            continue
        changes.append(
            ResourceChange(
                group=str(item.get("group", "")),
                kind=str(item.get("kind", "")),
                namespace=str(item.get("namespace", "")),
                name=str(item.get("name", "")),
                change=change,
                fields=fields,
            )
        )
    return changes


@dataclass(frozen=True)
class NodeHealth:
    kind: str
    namespace: str
    name: str
    health: str
    message: str

    @property
    def ref(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"


def tree_health(tree: JSON) -> list[NodeHealth]:
    """Every node of an ApplicationTree that reports a health (ConfigMaps and the like do not)."""
    nodes = []
    for node in tree.get("nodes") or []:
        health = node.get("health") or {}
        if not health.get("status"):
            continue
        nodes.append(
            NodeHealth(
                kind=str(node.get("kind", "")),
                namespace=str(node.get("namespace", "")),
                name=str(node.get("name", "")),
                health=str(health["status"]),
                message=str(health.get("message", "")),
            )
        )
    return nodes


def health_counts(nodes: list[NodeHealth]) -> dict[str, int]:
    return dict(Counter(node.health for node in nodes).most_common())


def kubectl_verbs(resources: list[JSON]) -> dict[str, int]:
    """Count what a sync did to each resource: kubectl's verb for an applied one
    ("deployment.apps/checkout configured (dry run)" → configured), else its status
    ("PruneSkipped" → prune skipped)."""
    verbs: Counter[str] = Counter()
    for resource in resources:
        status = str(resource.get("status", ""))
        words = str(resource.get("message", "")).removesuffix("(dry run)").split()
        if status == SYNCED and words:
            verbs[words[-1]] += 1
        else:
            verbs[re.sub(r"(?<!^)(?=[A-Z])", " ", status).lower() or "unknown"] += 1
    return dict(sorted(verbs.items()))


def short(revision: str) -> str:
    """Git SHAs shortened as git does; tags, branches and chart versions left alone."""
    is_sha = len(revision) == 40 and all(c in "0123456789abcdef" for c in revision)
    return revision[:7] if is_sha else (revision or "no revision")


def _revision(revision: Any, revisions: Any) -> str:
    """Single-source apps carry `revision`; multi-source apps carry `revisions`, one per source."""
    if revision:
        return str(revision)
    return ",".join(str(r) for r in revisions or [])


def _document(state: Any) -> Any:
    """Argo CD sends each state as a JSON string, "null" for a side that does not exist."""
    if not state:
        return None
    try:
        return json.loads(state)
    except (TypeError, ValueError):
        return None


def _field_changes(live: Any, target: Any, *, secret: bool) -> list[str]:
    """ "spec.replicas: 2 → 3" for each changed leaf, capped; a Secret's values are never shown."""
    lines = []
    for path, before, after in _diff(_without_server_fields(live), _without_server_fields(target), ""):
        if len(lines) == _MAX_FIELDS:
            lines.append("…")
            break
        lines.append(path if secret else f"{path}: {_show(before)} → {_show(after)}")
    return lines


_ABSENT = object()


def _diff(before: Any, after: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(before.keys() | after.keys()):
            child = f"{path}.{key}" if path else str(key)
            yield from _diff(before.get(key, _ABSENT), after.get(key, _ABSENT), child)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from _diff(old, new, f"{path}[{index}]")
    elif before != after:
        yield path, before, after


def _without_server_fields(document: Any) -> Any:
    if not isinstance(document, dict):
        return document
    trimmed = {key: value for key, value in document.items() if key != "status"}
    metadata = trimmed.get("metadata")
    if isinstance(metadata, dict):
        metadata = {k: v for k, v in metadata.items() if k not in _SERVER_METADATA}
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict) and _LAST_APPLIED in annotations:
            kept = {k: v for k, v in annotations.items() if k != _LAST_APPLIED}
            if kept:
                metadata["annotations"] = kept
            else:
                del metadata["annotations"]
        trimmed["metadata"] = metadata
    return trimmed


def _show(value: Any) -> str:
    if value is _ABSENT:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"
