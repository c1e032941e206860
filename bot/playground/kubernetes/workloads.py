"""What the Deployment controller, the ReplicaSet controller and the kubelet do for a Deployment:
one ReplicaSet per pod template, numbered by revision, and the pods of each, scheduled and started."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import secrets
from dataclasses import dataclass

from bot.playground.kubernetes.events import Events
from bot.playground.kubernetes.logs import Logs
from bot.playground.kubernetes.nodes import Nodes
from bot.playground.kubernetes.objects import ObjectStore, controller_uid, now_rfc3339, owner_reference
from bot.playground.kubernetes.status import JSON

POD_TEMPLATE_HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
_BOOKKEEPING = {
    REVISION,
    REVISION_HISTORY,
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "kubectl.kubernetes.io/last-applied-configuration",
}
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
CRASH_LOOP = "CrashLoopBackOff"


def template_hash(template: JSON) -> str:
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(_SAFE_ALPHABET[b % len(_SAFE_ALPHABET)] for b in digest[:10])


def revision(obj: JSON) -> int:
    return int(obj["metadata"].get("annotations", {}).get(REVISION, "0"))


@dataclass
class Workloads:
    store: ObjectStore
    events: Events
    nodes: Nodes
    logs: Logs

    def roll(self, deployment: JSON, *, ready: int) -> JSON:
        """One pass over `deployment`: the ReplicaSet of its template runs spec.replicas pods, the first
        `ready` of them Ready; every older ReplicaSet is scaled to zero. Returns the current one."""
        owned = self.store.owned_by("replicasets", deployment)
        current = self._current(deployment, owned)
        current_name = current["metadata"]["name"]
        namespace = deployment["metadata"]["namespace"]
        for name in dict.fromkeys([*(rs["metadata"]["name"] for rs in owned), current_name]):
            is_current = name == current_name
            replica_set = self.store.get("replicasets", namespace, name)
            replica_set = self._scale(
                deployment, replica_set, deployment["spec"]["replicas"] if is_current else 0
            )
            replica_set = self._sync_pods(replica_set, ready=ready if is_current else 0)
            if is_current:
                current = replica_set
        self._clean_up(deployment, current)
        return current

    def delete_pod(self, namespace: str, name: str) -> JSON:
        """The kubelet stops the containers and the pod is gone; returns it as it was."""
        pod = self.store.delete("pods", namespace, name)
        self.logs.forget(namespace, name)
        for container in pod["spec"]["containers"]:
            message = f"Stopping container {container['name']}"
            self.events.record(pod, "Killing", message, component="kubelet")
        return pod

    def owning_deployment(self, pod: JSON) -> JSON | None:
        """The Deployment whose ReplicaSet controls `pod`, if any."""
        namespace = pod["metadata"]["namespace"]
        replica_set = _by_uid(self.store.list("replicasets", namespace), controller_uid(pod))
        if replica_set is None:
            return None
        return _by_uid(self.store.list("deployments", namespace), controller_uid(replica_set))

    def restart_container(self, namespace: str, name: str, container: str, *, crash_loop: bool) -> JSON:
        """A running pod's container exited with an error and the kubelet restarted it (or, in a crash
        loop, is backing off before the next start)."""
        pod = self.store.get("pods", namespace, name)
        status = next(s for s in pod["status"]["containerStatuses"] if s["name"] == container)
        status["restartCount"] += 1
        started = status["state"].get("running", {}).get("startedAt", now_rfc3339())
        terminated = {"exitCode": 1, "reason": "Error", "startedAt": started, "finishedAt": now_rfc3339()}
        status["lastState"] = {"terminated": {"containerID": status.get("containerID", ""), **terminated}}
        if crash_loop:
            message = f"back-off 10s restarting failed container={container} pod={name}_{namespace}"
            status.update(
                ready=False, started=False, state={"waiting": {"reason": CRASH_LOOP, "message": message}}
            )
        else:
            status["state"] = {"running": {"startedAt": now_rfc3339()}}
        pod["status"] = _pod_status(pod, ready=True, nodes=0)
        self.logs.start(namespace, name, container)
        reason = "BackOff" if crash_loop else "Started"
        message = "Back-off restarting failed container" if crash_loop else f"Started container {container}"
        self.events.record(
            pod, reason, message, event_type="Warning" if crash_loop else "Normal", component="kubelet"
        )
        return self.store.update("pods", pod)

    def _current(self, deployment: JSON, owned: list[JSON]) -> JSON:
        """The ReplicaSet of the Deployment's template: a new one, or an old one taking the next
        revision again (a rollback), recording the revision it had."""
        template = deployment["spec"]["template"]
        name = f"{deployment['metadata']['name']}-{template_hash(template)}"
        newest = max((revision(rs) for rs in owned), default=0)
        current = next((rs for rs in owned if rs["metadata"]["name"] == name), None)
        if current is None:
            return self.store.create("replicasets", _replica_set(deployment, name, newest + 1))
        if revision(current) < newest:
            annotations = current["metadata"]["annotations"]
            history = [h for h in annotations.get(REVISION_HISTORY, "").split(",") if h]
            annotations[REVISION_HISTORY] = ",".join([*history, annotations[REVISION]])
            annotations[REVISION] = str(newest + 1)
            return self.store.update("replicasets", current)
        return current

    def _scale(self, deployment: JSON, replica_set: JSON, desired: int) -> JSON:
        before = replica_set["spec"]["replicas"]
        if before == desired:
            return replica_set
        replica_set["spec"]["replicas"] = desired
        name = replica_set["metadata"]["name"]
        direction = "up" if desired > before else "down"
        created = replica_set["status"].get("observedGeneration") is None and before == 0
        since = "" if created else f" from {before}"
        message = f"Scaled {direction} replica set {name} to {desired}{since}"
        self.events.record(deployment, "ScalingReplicaSet", message, component="deployment-controller")
        return self.store.update("replicasets", replica_set)

    def _sync_pods(self, replica_set: JSON, *, ready: int) -> JSON:
        pods = self.store.owned_by("pods", replica_set)
        desired = replica_set["spec"]["replicas"]
        for pod in pods[desired:]:
            self.store.delete("pods", *_key(pod))
            self.logs.forget(*_key(pod))
            message = f"Deleted pod: {pod['metadata']['name']}"
            self.events.record(replica_set, "SuccessfulDelete", message, component="replicaset-controller")
        pods = pods[:desired]
        while len(pods) < desired:
            pods.append(self._create_pod(replica_set))
        nodes = len(self.store.list("nodes"))
        for index, pod in enumerate(pods):
            status = _pod_status(pod, ready=index < ready, nodes=nodes)
            if status != pod["status"]:
                pod["status"] = status
                self.store.update("pods", pod)
        counted = self.store.owned_by("pods", replica_set)
        ready_count = sum(1 for pod in counted if _is_ready(pod))
        status = {
            "replicas": len(counted),
            "fullyLabeledReplicas": len(counted),
            "readyReplicas": ready_count,
            "availableReplicas": ready_count,
            "observedGeneration": replica_set["metadata"]["generation"],
        }
        status = {key: value for key, value in status.items() if value or key == "replicas"}
        if status != replica_set["status"]:
            replica_set["status"] = status
            replica_set = self.store.update("replicasets", replica_set)
        return replica_set

    def run_pod(self, pod: JSON, *, ready: bool) -> JSON:
        """The scheduler places a new pod on the least busy schedulable node and the kubelet starts it
        (Ready at once when `ready`); each container logs its start."""
        node = self.nodes.pick(self.store.list("pods"))
        if node is not None:
            pod["spec"]["nodeName"] = node
        pod["status"] = _pod_status(pod, ready=ready, nodes=len(self.store.list("nodes")))
        created = self.store.create("pods", pod)
        namespace, name = _key(created)
        for container in pod["spec"]["containers"]:
            self.logs.start(namespace, name, container["name"])
            self.logs.write(namespace, name, container["name"], [f"starting {container['image']}"], None)
        return created

    def _create_pod(self, replica_set: JSON) -> JSON:
        namespace, rs_name = _key(replica_set)
        name = f"{rs_name}-{''.join(secrets.choice(_SAFE_ALPHABET) for _ in range(5))}"
        template = replica_set["spec"]["template"]
        metadata: JSON = {
            "name": name,
            "generateName": f"{rs_name}-",
            "namespace": namespace,
            "labels": dict(template["metadata"]["labels"]),
            "ownerReferences": [owner_reference(replica_set)],
        }
        if template["metadata"].get("annotations"):
            metadata["annotations"] = dict(template["metadata"]["annotations"])
        spec = {**copy.deepcopy(template["spec"]), "restartPolicy": "Always"}
        created = self.run_pod(
            {"kind": "Pod", "apiVersion": "v1", "metadata": metadata, "spec": spec}, ready=False
        )
        self.events.record(
            replica_set, "SuccessfulCreate", f"Created pod: {name}", component="replicaset-controller"
        )
        return created

    def _clean_up(self, deployment: JSON, current: JSON) -> None:
        """Delete the oldest scaled-down ReplicaSets past spec.revisionHistoryLimit."""
        limit = deployment["spec"].get("revisionHistoryLimit", 10)
        old = [
            rs
            for rs in self.store.owned_by("replicasets", deployment)
            if rs["metadata"]["name"] != current["metadata"]["name"] and rs["spec"]["replicas"] == 0
        ]
        for replica_set in sorted(old, key=revision)[: max(0, len(old) - limit)]:
            self.store.delete("replicasets", *_key(replica_set))


def _replica_set(deployment: JSON, name: str, number: int) -> JSON:
    pod_hash = name.rsplit("-", 1)[1]
    spec = deployment["spec"]
    template = copy.deepcopy(spec["template"])
    template["metadata"]["labels"] = {**template["metadata"].get("labels", {}), POD_TEMPLATE_HASH: pod_hash}
    own = deployment["metadata"].get("annotations", {})
    surge = math.ceil(spec["replicas"] * 0.25)
    annotations = {
        **{key: value for key, value in own.items() if key not in _BOOKKEEPING},
        REVISION: str(number),
        "deployment.kubernetes.io/desired-replicas": str(spec["replicas"]),
        "deployment.kubernetes.io/max-replicas": str(spec["replicas"] + surge),
    }
    return {
        "kind": "ReplicaSet",
        "apiVersion": "apps/v1",
        "metadata": {
            "name": name,
            "namespace": deployment["metadata"]["namespace"],
            "generation": 1,
            "labels": template["metadata"]["labels"],
            "annotations": annotations,
            "ownerReferences": [owner_reference(deployment)],
        },
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {**spec["selector"]["matchLabels"], POD_TEMPLATE_HASH: pod_hash}},
            "template": template,
        },
        "status": {"replicas": 0},
    }


def _pod_status(pod: JSON, *, ready: bool, nodes: int) -> JSON:
    """The kubelet's view: Running and Ready, or Pending while its containers are created (or, with
    no node to run on, unscheduled); restarts and crash loops already recorded are kept."""
    now = now_rfc3339()
    if not pod["spec"].get("nodeName"):
        message = f"0/{nodes} nodes are available: {nodes} node(s) were unschedulable."
        scheduled = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}
        return {"phase": "Pending", "conditions": [scheduled], "qosClass": "BestEffort"}
    previous = {s["name"]: s for s in pod.get("status", {}).get("containerStatuses", [])}
    statuses = [_container_status(c, previous.get(c["name"]), ready=ready) for c in pod["spec"]["containers"]]
    all_ready = all(s["ready"] for s in statuses)
    started = any(s["state"].get("running") or s["restartCount"] for s in statuses)
    condition = "True" if all_ready else "False"
    conditions = [
        {"type": kind, "status": condition if kind in ("Ready", "ContainersReady") else "True"}
        for kind in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
    ]
    status: JSON = {
        "phase": "Running" if started else "Pending",
        "conditions": conditions,
        "hostIP": "10.0.0.10",
        "podIP": "10.244.0.10",
        "startTime": pod.get("status", {}).get("startTime", now),
        "containerStatuses": statuses,
        "qosClass": "BestEffort",
    }
    return status


def _container_status(container: JSON, previous: JSON | None, *, ready: bool) -> JSON:
    previous = previous or {}
    crash_looping = previous.get("state", {}).get("waiting", {}).get("reason") == CRASH_LOOP
    running = ready and not crash_looping
    if running:
        state = (
            previous["state"]
            if "running" in previous.get("state", {})
            else {"running": {"startedAt": now_rfc3339()}}
        )
    elif crash_looping:
        state = previous["state"]
    else:
        state = {"waiting": {"reason": "ContainerCreating"}}
    status: JSON = {
        "name": container["name"],
        "image": container["image"],
        "imageID": "",
        "containerID": previous.get("containerID") or f"containerd://{secrets.token_hex(32)}",
        "ready": running,
        "started": running,
        "restartCount": previous.get("restartCount", 0),
        "state": state,
    }
    if previous.get("lastState"):
        status["lastState"] = previous["lastState"]
    return status


def _is_ready(pod: JSON) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def _by_uid(objects: list[JSON], uid: str | None) -> JSON | None:
    return next((obj for obj in objects if uid and obj["metadata"]["uid"] == uid), None)


def _key(obj: JSON) -> tuple[str, str]:
    return obj["metadata"]["namespace"], obj["metadata"]["name"]
