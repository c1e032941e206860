"""The fake API server's cluster without the HTTP: its objects, the controllers that act on them, and
what a test uses to seed and inspect them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.playground.kubernetes.events import Events
from bot.playground.kubernetes.logs import Logs
from bot.playground.kubernetes.nodes import Nodes
from bot.playground.kubernetes.objects import ObjectStore
from bot.playground.kubernetes.state import Deployments, Stuck
from bot.playground.kubernetes.status import JSON
from bot.playground.kubernetes.workloads import Workloads

_RESOURCES = {"Deployment": "deployments", "Pod": "pods", "Node": "nodes", "ReplicaSet": "replicasets"}


class KubernetesCluster:
    def __init__(self, *, nodes: tuple[str, ...]) -> None:
        self._store = ObjectStore()
        self._events = Events(self._store)
        self._logs = Logs()
        self._nodes = Nodes(self._store, self._events)
        self._workloads = Workloads(self._store, self._events, self._nodes, self._logs)
        self._deployments = Deployments(self._store, self._workloads)
        for node in nodes:
            self._nodes.add(node)

    def add_deployment(
        self,
        namespace: str,
        name: str,
        *,
        replicas: int = 2,
        image: str = "nginx:1.27",
        annotations: dict[str, str] | None = None,
    ) -> JSON:
        """Seed a Deployment that has already rolled out: revision 1, its ReplicaSet and ready pods."""
        return self._deployments.add(namespace, name, replicas=replicas, image=image, annotations=annotations)

    def add_service(
        self, namespace: str, name: str, *, selector: dict[str, str], port: int = 80, kind: str = "ClusterIP"
    ) -> JSON:
        service: JSON = {
            "kind": "Service",
            "apiVersion": "v1",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "type": kind,
                "selector": selector,
                "ports": [{"name": "http", "port": port, "protocol": "TCP", "targetPort": port}],
            },
            "status": {"loadBalancer": {}},
        }
        return self._store.create("services", service)

    def add_ingress(self, namespace: str, name: str, *, host: str, service: str, port: int = 80) -> JSON:
        backend = {"service": {"name": service, "port": {"number": port}}}
        path = {"path": "/", "pathType": "Prefix", "backend": backend}
        ingress: JSON = {
            "kind": "Ingress",
            "apiVersion": "networking.k8s.io/v1",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"ingressClassName": "nginx", "rules": [{"host": host, "http": {"paths": [path]}}]},
            "status": {"loadBalancer": {}},
        }
        return self._store.create("ingresses", ingress)

    def deployment(self, namespace: str, name: str) -> JSON:
        return self._store.get("deployments", namespace, name)

    def replica_sets(self, namespace: str) -> list[JSON]:
        return self._store.list("replicasets", namespace)

    def pods(self, namespace: str, *, prefix: str = "") -> list[JSON]:
        return [
            pod for pod in self._store.list("pods", namespace) if pod["metadata"]["name"].startswith(prefix)
        ]

    def pod(self, namespace: str, name: str) -> JSON:
        return self._store.get("pods", namespace, name)

    def add_pod(self, namespace: str, name: str, *, image: str = "busybox:1.36", containers: int = 1) -> JSON:
        """A running pod that no controller owns; its containers are `name`, `name-1`, …"""
        specs = [{"name": name if i == 0 else f"{name}-{i}", "image": image} for i in range(containers)]
        pod: JSON = {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {"name": name, "namespace": namespace, "labels": {"run": name}},
            "spec": {"containers": specs, "restartPolicy": "Always"},
            "status": {},
        }
        return self._workloads.run_pod(pod, ready=True)

    def write_logs(
        self,
        namespace: str,
        pod: str,
        lines: list[str],
        *,
        container: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Append `lines` to a container's current run (the pod's only container when None)."""
        name = container or self.pod(namespace, pod)["spec"]["containers"][0]["name"]
        self._logs.write(namespace, pod, name, lines, at)

    def restart_container(
        self, namespace: str, pod: str, *, container: str | None = None, crash_loop: bool = False
    ) -> JSON:
        name = container or self.pod(namespace, pod)["spec"]["containers"][0]["name"]
        return self._workloads.restart_container(namespace, pod, name, crash_loop=crash_loop)

    def add_event(
        self,
        namespace: str,
        kind: str,
        name: str,
        reason: str,
        message: str,
        *,
        event_type: str = "Normal",
        count: int = 1,
        ago: timedelta = timedelta(0),
    ) -> JSON:
        """Record an event about an object (which need not exist), `ago` before now."""
        scope = "" if kind == "Node" else namespace
        involved = self._store.find(_RESOURCES.get(kind, ""), scope, name) or {
            "kind": kind,
            "metadata": {"name": name, "namespace": namespace},
        }
        return self._events.record(
            involved,
            reason,
            message,
            event_type=event_type,
            component="test",
            count=count,
            at=datetime.now(UTC) - ago,
        )

    def events(self, namespace: str) -> list[JSON]:
        return self._store.list("events", namespace)

    def add_node(self, name: str, *, unschedulable: bool = False) -> JSON:
        return self._nodes.add(name, unschedulable=unschedulable)

    def node(self, name: str) -> JSON:
        return self._store.get("nodes", "", name)

    def set_stuck(
        self, namespace: str, name: str, *, available: int, deadline_exceeded: bool = False
    ) -> None:
        """From now on the rollout never gets past `available` ready pods."""
        self._deployments.set_stuck(namespace, name, Stuck(available, deadline_exceeded))
        self._deployments.reconcile(namespace, name)

    def release(self, namespace: str, name: str) -> None:
        """Let a stuck rollout finish, as if the missing pods were finally scheduled."""
        self._deployments.set_stuck(namespace, name, None)
        self._deployments.reconcile(namespace, name)
