"""Nodes: Ready kubelets that pods are spread over, and what cordoning one does (the unschedulable
taint the node lifecycle controller adds, the event the kubelet records)."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from dataclasses import dataclass

from bot.playground.kubernetes.events import Events
from bot.playground.kubernetes.objects import ObjectStore, now_rfc3339
from bot.playground.kubernetes.status import JSON, bad_request

UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
KUBELET_VERSION = "v1.31.0"


@dataclass
class Nodes:
    store: ObjectStore
    events: Events

    def add(self, name: str, *, unschedulable: bool = False) -> JSON:
        now = now_rfc3339()
        ready = {
            "type": "Ready",
            "status": "True",
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
        }
        node: JSON = {
            "kind": "Node",
            "apiVersion": "v1",
            "metadata": {
                "name": name,
                "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"},
            },
            "spec": {"unschedulable": True} if unschedulable else {},
            "status": {
                "conditions": [ready],
                "addresses": [{"type": "Hostname", "address": name}],
                "nodeInfo": _node_info(name),
            },
        }
        return self._taint(self.store.create("nodes", node))

    def replace(self, name: str, new: JSON, *, dry_run: bool) -> JSON:
        """A client's write; the response is the object as written, before the controllers react."""
        before = self.store.get("nodes", "", name)
        stored, _ = self.store.replace("nodes", "", name, new, dry_run=dry_run, validate=_validate)
        if not dry_run and _cordoned(stored) != _cordoned(before):
            self._taint(stored)
            status = "NodeNotSchedulable" if _cordoned(stored) else "NodeSchedulable"
            self.events.record(stored, status, f"Node {name} status is now: {status}", component="kubelet")
        return stored

    def pick(self, pods: list[JSON]) -> str | None:
        """The schedulable node running the fewest of `pods`, or None when every node is cordoned."""
        schedulable = [n["metadata"]["name"] for n in self.store.list("nodes") if not _cordoned(n)]
        if not schedulable:
            return None
        load = Counter(pod["spec"].get("nodeName") for pod in pods)
        return min(schedulable, key=lambda node: (load[node], node))

    def _taint(self, node: JSON) -> JSON:
        spec = node.setdefault("spec", {})
        current = spec.get("taints", [])
        taints = [t for t in current if t["key"] != UNSCHEDULABLE_TAINT]
        if _cordoned(node):
            taints.append({"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule", "timeAdded": now_rfc3339()})
        if taints == current:
            return node
        spec["taints"] = taints
        if not taints:
            del spec["taints"]
        return self.store.update("nodes", node)


def _node_info(name: str) -> JSON:
    machine = hashlib.md5(name.encode()).hexdigest()
    return {
        "machineID": machine,
        "systemUUID": str(uuid.UUID(machine)),
        "bootID": str(uuid.uuid5(uuid.NAMESPACE_DNS, name)),
        "kernelVersion": "6.8.0-45-generic",
        "osImage": "Ubuntu 24.04.1 LTS",
        "containerRuntimeVersion": "containerd://1.7.22",
        "kubeletVersion": KUBELET_VERSION,
        "kubeProxyVersion": KUBELET_VERSION,
        "operatingSystem": "linux",
        "architecture": "amd64",
    }


def _cordoned(node: JSON) -> bool:
    return bool((node.get("spec") or {}).get("unschedulable"))


def _validate(node: JSON) -> None:
    value = (node.get("spec") or {}).get("unschedulable")
    if value is not None and not isinstance(value, bool):
        raise bad_request(
            f"json: cannot unmarshal {type(value).__name__} into Go struct field "
            "NodeSpec.spec.unschedulable of type bool"
        )
