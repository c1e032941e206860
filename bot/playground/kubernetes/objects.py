"""The fake API server's storage: every object by (resource, namespace, name), with one global
resourceVersion counter as etcd keeps, and the write rules every resource shares."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.playground.kubernetes.status import JSON, already_exists, conflict, not_found

Key = tuple[str, str, str]
# Fields the server owns: a write can neither set nor drop them.
_SERVER_METADATA = ("name", "namespace", "uid", "generation", "creationTimestamp", "deletionTimestamp")


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def owner_reference(owner: JSON) -> JSON:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_uid(obj: JSON) -> str | None:
    owners = obj["metadata"].get("ownerReferences", [])
    return next((owner["uid"] for owner in owners if owner.get("controller")), None)


@dataclass
class ObjectStore:
    revision: int = 1
    _objects: dict[Key, JSON] = field(default_factory=dict)

    def create(self, resource: str, obj: JSON) -> JSON:
        meta = obj["metadata"]
        key = (resource, meta.get("namespace", ""), meta["name"])
        if key in self._objects:
            raise already_exists(resource, meta["name"])
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", now_rfc3339())
        return self._store(key, obj)

    def get(self, resource: str, namespace: str, name: str) -> JSON:
        found = self.find(resource, namespace, name)
        if found is None:
            raise not_found(resource, name)
        return found

    def find(self, resource: str, namespace: str, name: str) -> JSON | None:
        obj = self._objects.get((resource, namespace, name))
        return None if obj is None else copy.deepcopy(obj)

    def list(self, resource: str, namespace: str | None = None) -> list[JSON]:
        """In key order, as etcd lists them; `namespace` None lists every namespace."""
        return [
            copy.deepcopy(obj)
            for (kind, ns, _), obj in sorted(self._objects.items())
            if kind == resource and namespace in (None, ns)
        ]

    def owned_by(self, resource: str, owner: JSON) -> list[JSON]:
        namespace = owner["metadata"].get("namespace")
        return [
            obj for obj in self.list(resource, namespace) if controller_uid(obj) == owner["metadata"]["uid"]
        ]

    def update(self, resource: str, obj: JSON) -> JSON:
        """Store a controller's write of an existing object; the resourceVersion moves on."""
        meta = obj["metadata"]
        key = (resource, meta.get("namespace", ""), meta["name"])
        if key not in self._objects:
            raise not_found(resource, meta["name"])
        return self._store(key, obj)

    def replace(
        self,
        resource: str,
        namespace: str,
        name: str,
        new: JSON,
        *,
        dry_run: bool,
        validate: Callable[[JSON], None],
    ) -> tuple[JSON, bool]:
        """A client's PUT or PATCH result; returns the stored object and whether its spec changed.

        A non-empty metadata.resourceVersion in `new` is a precondition (409 when stale); server owned
        fields and status are kept from the stored object, and a spec change bumps the generation.
        A dry run answers the would-be object and stores nothing.
        """
        old = self.get(resource, namespace, name)
        expected = new.get("metadata", {}).get("resourceVersion")
        if expected and expected != old["metadata"]["resourceVersion"]:
            raise conflict(resource, name)
        merged = _with_server_fields(new, old)
        validate(merged)
        spec_changed = merged.get("spec") != old.get("spec")
        if spec_changed and "generation" in old["metadata"]:
            merged["metadata"]["generation"] = old["metadata"]["generation"] + 1
        if merged == old or dry_run:
            return merged, spec_changed and merged != old
        return self.update(resource, merged), spec_changed

    def delete(self, resource: str, namespace: str, name: str) -> JSON:
        obj = self.get(resource, namespace, name)
        del self._objects[(resource, namespace, name)]
        return obj

    def _store(self, key: Key, obj: JSON) -> JSON:
        self.revision += 1
        obj["metadata"]["resourceVersion"] = str(self.revision)
        self._objects[key] = copy.deepcopy(obj)
        return copy.deepcopy(obj)


def _with_server_fields(new: JSON, old: JSON) -> JSON:
    merged = copy.deepcopy(new)
    merged["kind"], merged["apiVersion"] = old["kind"], old["apiVersion"]
    meta = merged.setdefault("metadata", {})
    for key in _SERVER_METADATA:
        if key in old["metadata"]:
            meta[key] = old["metadata"][key]
    meta["resourceVersion"] = old["metadata"]["resourceVersion"]
    if "status" in old:
        merged["status"] = copy.deepcopy(old["status"])
    return merged
