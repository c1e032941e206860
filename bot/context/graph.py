"""The service graph as collectors build it: nodes (a service, a workload, an ingress, …) with
kind/name/namespace/environment/owner, and edges runs_on/depends_on/exposes/deploys/alerts.

Collectors each return a `Fragment`; `Graph.merge` joins them in order, so the first fragment that
names an owner or environment wins (the mapping file first, then operator memory, then the tools).
An edge to a service creates that service's node, since a service is whatever the sources call one;
an edge to any other node that no source produced is dropped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class NodeKind(StrEnum):
    SERVICE = "service"
    WORKLOAD = "workload"
    K8S_SERVICE = "k8s_service"
    INGRESS = "ingress"
    HELM_RELEASE = "helm_release"
    ARGOCD_APP = "argocd_app"
    TARGET = "prometheus_target"
    ALERT = "alert"
    AWS_RESOURCE = "aws_resource"


class Relation(StrEnum):
    """`a runs_on b`: b is what a runs as or on; `a depends_on b`; `a exposes b`: a makes b reachable
    (an ingress its Service, a Service its pods, a service its metrics target); `a deploys b`;
    `a alerts b`: a firing alert about b."""

    RUNS_ON = "runs_on"
    DEPENDS_ON = "depends_on"
    EXPOSES = "exposes"
    DEPLOYS = "deploys"
    ALERTS = "alerts"


@dataclass(frozen=True)
class Node:
    key: str
    kind: NodeKind
    name: str
    namespace: str = ""
    environment: str = ""
    owner: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def label(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind.replace('_', ' ')} {where}{self.name}"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    relation: Relation


@dataclass
class Fragment:
    """What one source found."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)


def key(kind: NodeKind, name: str, namespace: str = "") -> str:
    return f"{kind}:{namespace}/{name}" if namespace else f"{kind}:{name}"


def service(name: str, **fields: Any) -> Node:
    return Node(key=key(NodeKind.SERVICE, name), kind=NodeKind.SERVICE, name=name, **fields)


class Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: set[Edge] = set()

    @classmethod
    def merge(cls, fragments: Iterable[Fragment]) -> Graph:
        graph = cls()
        pending: list[Edge] = []
        for fragment in fragments:
            for node in fragment.nodes:
                graph._add(node)
            pending += fragment.edges
        for edge in pending:
            for end in (edge.source, edge.target):
                if end not in graph.nodes and end.startswith(f"{NodeKind.SERVICE}:"):
                    graph._add(service(end.split(":", 1)[1]))
            if edge.source in graph.nodes and edge.target in graph.nodes and edge.source != edge.target:
                graph.edges.add(edge)
        return graph

    def digest(self) -> str:
        """Equal for equal graphs, whatever order the sources answered in."""
        nodes = sorted(
            (
                n.key,
                n.kind,
                n.name,
                n.namespace,
                n.environment,
                n.owner,
                json.dumps(n.attributes, sort_keys=True),
            )
            for n in self.nodes.values()
        )
        edges = sorted((e.source, e.target, e.relation) for e in self.edges)
        return hashlib.sha256(json.dumps([nodes, edges]).encode()).hexdigest()

    def _add(self, node: Node) -> None:
        known = self.nodes.get(node.key)
        if known is None:
            self.nodes[node.key] = node
            return
        self.nodes[node.key] = replace(
            known,
            namespace=known.namespace or node.namespace,
            environment=known.environment or node.environment,
            owner=known.owner or node.owner,
            attributes={**node.attributes, **known.attributes},
        )
