"""The tool-backed sources of the context graph: which read actions each one calls (through the tool
registry, like any step) and how their answers become nodes and edges.

Each source is a `fetch` that asks its actions through `call`, and a pure `build` from their data to
a Fragment, so the building is tested on data and the fetching against the tools' real servers and
fakes. A service's name comes from the labels the ecosystem uses for it (`app.kubernetes.io/name`,
`app`, Prometheus's `service`/`app`/`job`, an AWS tag), falling back to the object's own name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.context.graph import Edge, Fragment, Node, NodeKind, Relation, key, service

Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
Data = dict[str, Any]
HELM_PAGE = 256
HELM_PAGES = 20
_NAME_LABELS = ("app.kubernetes.io/name", "app")
_OWNER_KEYS = ("owner", "team", "app.kubernetes.io/owner")


@dataclass(frozen=True)
class Source:
    name: str
    actions: tuple[str, ...]
    fetch: Callable[[Call, SourceSettings], Awaitable[Data]]
    build: Callable[[Data, SourceSettings], Fragment]


@dataclass(frozen=True)
class SourceSettings:
    environment: str
    aws_tag: str = "service"


# -- Kubernetes ---------------------------------------------------------------------------------


async def _fetch_kubernetes(call: Call, settings: SourceSettings) -> Data:
    return {
        "workloads": (await call("kubernetes.list_workloads", {}))["deployments"],
        "services": (await call("kubernetes.list_services", {}))["services"],
        "ingresses": (await call("kubernetes.list_ingresses", {}))["ingresses"],
    }


def build_kubernetes(data: Data, settings: SourceSettings) -> Fragment:
    fragment = Fragment()
    env = settings.environment
    pods: list[tuple[str, str, Mapping[str, str]]] = []
    for workload in data["workloads"]:
        ns, name, labels = workload["namespace"], workload["name"], workload.get("labels") or {}
        node = Node(
            key(NodeKind.WORKLOAD, name, ns),
            NodeKind.WORKLOAD,
            name,
            ns,
            env,
            _owner(labels),
            {"images": workload.get("images", []), "replicas": workload.get("replicas")},
        )
        fragment.nodes.append(node)
        pods.append((node.key, ns, workload.get("pod_labels") or {}))
        svc = _first(labels, _NAME_LABELS) or name
        fragment.nodes.append(service(svc, environment=env))
        fragment.edges.append(Edge(key(NodeKind.SERVICE, svc), node.key, Relation.RUNS_ON))
        if workload.get("helm_release"):
            release = key(
                NodeKind.HELM_RELEASE, workload["helm_release"], workload.get("helm_namespace") or ns
            )
            fragment.edges.append(Edge(release, node.key, Relation.DEPLOYS))
    for svc in data["services"]:
        ns, name, selector = svc["namespace"], svc["name"], svc.get("selector") or {}
        attributes = {"type": svc.get("type", ""), "ports": [p.get("port") for p in svc.get("ports", [])]}
        node = Node(key(NodeKind.K8S_SERVICE, name, ns), NodeKind.K8S_SERVICE, name, ns, env, "", attributes)
        fragment.nodes.append(node)
        for workload_key, workload_ns, labels in pods:
            if selector and workload_ns == ns and selector.items() <= labels.items():
                fragment.edges.append(Edge(node.key, workload_key, Relation.EXPOSES))
    for ingress in data["ingresses"]:
        ns, name = ingress["namespace"], ingress["name"]
        node = Node(
            key(NodeKind.INGRESS, name, ns),
            NodeKind.INGRESS,
            name,
            ns,
            env,
            "",
            {"hosts": ingress.get("hosts", [])},
        )
        fragment.nodes.append(node)
        for backend in ingress.get("services", []):
            fragment.edges.append(Edge(node.key, key(NodeKind.K8S_SERVICE, backend, ns), Relation.EXPOSES))
    return fragment


# -- Helm ---------------------------------------------------------------------------------------


async def _fetch_helm(call: Call, settings: SourceSettings) -> Data:
    releases: list[Data] = []
    offset: int | None = 0
    for _ in range(HELM_PAGES):
        page = await call("helm.list_releases", {"limit": HELM_PAGE, "offset": offset})
        releases += page["releases"]
        offset = page.get("next_offset")
        if offset is None:
            break
    return {"releases": releases}


def build_helm(data: Data, settings: SourceSettings) -> Fragment:
    nodes = [
        Node(
            key(NodeKind.HELM_RELEASE, r["name"], r["namespace"]),
            NodeKind.HELM_RELEASE,
            r["name"],
            r["namespace"],
            settings.environment,
            attributes={
                "chart": r.get("chart", ""),
                "revision": r.get("revision"),
                "status": r.get("status", ""),
            },
        )
        for r in data["releases"]
    ]
    return Fragment(nodes=nodes)


# -- Argo CD ------------------------------------------------------------------------------------


async def _fetch_argocd(call: Call, settings: SourceSettings) -> Data:
    return {"apps": (await call("argocd.list_apps", {}))["apps"]}


_ARGOCD_KINDS = {
    "Deployment": NodeKind.WORKLOAD,
    "Service": NodeKind.K8S_SERVICE,
    "Ingress": NodeKind.INGRESS,
}


def build_argocd(data: Data, settings: SourceSettings) -> Fragment:
    fragment = Fragment()
    for app in data["apps"]:
        attributes = {
            "sync": app.get("sync_status", ""),
            "health": app.get("health_status", ""),
            "repo": app.get("repo_url", ""),
            "destination": app.get("destination_namespace", ""),
        }
        node = Node(
            key(NodeKind.ARGOCD_APP, app["name"]),
            NodeKind.ARGOCD_APP,
            app["name"],
            "",
            settings.environment,
            attributes=attributes,
        )
        fragment.nodes.append(node)
        for resource in app.get("resources", []):
            kind = _ARGOCD_KINDS.get(resource.get("kind", ""))
            if kind is not None:
                target = key(kind, resource["name"], resource.get("namespace", ""))
                fragment.edges.append(Edge(node.key, target, Relation.DEPLOYS))
    return fragment


# -- Prometheus ---------------------------------------------------------------------------------


async def _fetch_prometheus(call: Call, settings: SourceSettings) -> Data:
    return {
        "targets": (await call("prometheus.list_targets", {}))["targets"],
        "alerts": (await call("prometheus.list_alerts", {"state": "firing", "limit": 1000}))["alerts"],
    }


def build_prometheus(data: Data, settings: SourceSettings) -> Fragment:
    fragment = Fragment()
    for target in data["targets"]:
        labels = target.get("labels") or {}
        name = f"{target['job']}/{target['instance']}"
        node = Node(
            key(NodeKind.TARGET, name),
            NodeKind.TARGET,
            name,
            labels.get("namespace", ""),
            settings.environment,
            attributes={"health": target.get("health", "")},
        )
        fragment.nodes.append(node)
        svc = _first(labels, ("service", "app")) or target["job"]
        fragment.edges.append(Edge(key(NodeKind.SERVICE, svc), node.key, Relation.EXPOSES))
    for alert in data["alerts"]:
        labels = alert.get("labels") or {}
        svc = _first(labels, ("service", "app", "job"))
        if not svc:
            continue
        name = f"{labels.get('alertname', 'alert')}/{svc}"
        attributes = {
            "severity": labels.get("severity", ""),
            "summary": (alert.get("annotations") or {}).get("summary", ""),
        }
        node = Node(
            key(NodeKind.ALERT, name),
            NodeKind.ALERT,
            name,
            labels.get("namespace", ""),
            settings.environment,
            "",
            attributes,
        )
        fragment.nodes.append(node)
        fragment.edges.append(Edge(node.key, key(NodeKind.SERVICE, svc), Relation.ALERTS))
    return fragment


# -- AWS ----------------------------------------------------------------------------------------


async def _fetch_aws(call: Call, settings: SourceSettings) -> Data:
    answer = await call("aws.tags_list", {"tags": {settings.aws_tag: []}, "limit": 1000})
    return {"resources": answer["resources"]}


def build_aws(data: Data, settings: SourceSettings) -> Fragment:
    fragment = Fragment()
    for resource in data["resources"]:
        arn, tags = resource["arn"], resource.get("tags") or {}
        node = Node(
            key(NodeKind.AWS_RESOURCE, arn),
            NodeKind.AWS_RESOURCE,
            arn.split(":", 5)[-1],
            "",
            tags.get("environment") or tags.get("env") or settings.environment,
            _owner(tags),
            {"arn": arn},
        )
        fragment.nodes.append(node)
        if tags.get(settings.aws_tag):
            fragment.nodes.append(service(tags[settings.aws_tag], environment=node.environment))
            fragment.edges.append(
                Edge(key(NodeKind.SERVICE, tags[settings.aws_tag]), node.key, Relation.RUNS_ON)
            )
    return fragment


SOURCES = (
    Source(
        "kubernetes",
        ("kubernetes.list_workloads", "kubernetes.list_services", "kubernetes.list_ingresses"),
        _fetch_kubernetes,
        build_kubernetes,
    ),
    Source("helm", ("helm.list_releases",), _fetch_helm, build_helm),
    Source("argocd", ("argocd.list_apps",), _fetch_argocd, build_argocd),
    Source(
        "prometheus",
        ("prometheus.list_targets", "prometheus.list_alerts"),
        _fetch_prometheus,
        build_prometheus,
    ),
    Source("aws", ("aws.tags_list",), _fetch_aws, build_aws),
)


def _first(labels: Mapping[str, str], names: tuple[str, ...]) -> str:
    return next((labels[name] for name in names if labels.get(name)), "")


def _owner(labels: Mapping[str, str]) -> str:
    return _first(labels, _OWNER_KEYS)
