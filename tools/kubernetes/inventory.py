"""What runs on a cluster and how it is reached: Deployments with their labels and owners, Services
with their selectors, Ingresses with their hosts and backends, in one namespace or all of them.

These are the reads the context graph is built from, so their data is plain facts (names, labels,
selectors, references), not the rollout detail `kubernetes.list_deployments` gives a person.
"""

from __future__ import annotations

from typing import Any

from tools.common.base import ActionResult, Effect
from tools.common.wording import count
from tools.kubernetes.action import KubernetesAction
from tools.kubernetes.args import ClusterArgs, ListLimit, NamespaceName
from tools.kubernetes.resources import DEPLOYMENTS, INGRESSES, JSON, SERVICES, Kind

HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"
HELM_NAMESPACE_ANNOTATION = "meta.helm.sh/release-namespace"


class InventoryArgs(ClusterArgs):
    """`namespace` None reads every namespace."""

    namespace: NamespaceName | None = None
    limit: ListLimit = 500


class _Inventory(KubernetesAction[InventoryArgs]):
    args_model = InventoryArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 60.0
    kind: Kind

    async def run(self, args: InventoryArgs) -> ActionResult:
        client = await self.client(args)
        page = await client.list_all(self.kind, args.namespace, limit=args.limit)
        items = [self.fact(client.to_json(item)) for item in page.items]
        where = f"in {args.namespace}" if args.namespace else "in all namespaces"
        more = " (more not read)" if page.more else ""
        return ActionResult(
            summary=f"{count(len(items), self.kind.singular, self.kind.plural)} {where}{more}",
            data={self.kind.plural: items, "more": page.more},
        )

    def fact(self, obj: JSON) -> JSON:
        raise NotImplementedError


class ListWorkloads(_Inventory):
    name = "kubernetes.list_workloads"
    description = (
        "List Deployments with their labels, pod labels, images and Helm release, for the context graph."
    )
    kind = DEPLOYMENTS

    def fact(self, obj: JSON) -> JSON:
        meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
        template = spec.get("template") or {}
        annotations = meta.get("annotations") or {}
        return {
            **_named(meta),
            "labels": meta.get("labels") or {},
            "pod_labels": (template.get("metadata") or {}).get("labels") or {},
            "images": [c.get("image", "") for c in (template.get("spec") or {}).get("containers") or []],
            "replicas": spec.get("replicas", 1),
            "helm_release": annotations.get(HELM_RELEASE_ANNOTATION, ""),
            "helm_namespace": annotations.get(HELM_NAMESPACE_ANNOTATION, ""),
        }


class ListServices(_Inventory):
    name = "kubernetes.list_services"
    description = "List Services with their type, selector and ports."
    kind = SERVICES

    def fact(self, obj: JSON) -> JSON:
        meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
        ports = [
            {"name": p.get("name", ""), "port": p.get("port"), "protocol": p.get("protocol", "TCP")}
            for p in spec.get("ports") or []
        ]
        return {
            **_named(meta),
            "labels": meta.get("labels") or {},
            "type": spec.get("type", "ClusterIP"),
            "selector": spec.get("selector") or {},
            "ports": ports,
        }


class ListIngresses(_Inventory):
    name = "kubernetes.list_ingresses"
    description = "List Ingresses with their hosts and the Services they route to."
    kind = INGRESSES

    def fact(self, obj: JSON) -> JSON:
        meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
        backends = [_backend(spec["defaultBackend"])] if spec.get("defaultBackend") else []
        hosts = []
        for rule in spec.get("rules") or []:
            if rule.get("host"):
                hosts.append(rule["host"])
            backends += [
                _backend(path.get("backend") or {}) for path in (rule.get("http") or {}).get("paths") or []
            ]
        return {
            **_named(meta),
            "labels": meta.get("labels") or {},
            "class": spec.get("ingressClassName") or "",
            "hosts": hosts,
            "services": sorted({b for b in backends if b}),
        }


def _named(meta: JSON) -> dict[str, Any]:
    return {"namespace": meta.get("namespace", ""), "name": meta.get("name", "")}


def _backend(backend: JSON) -> str:
    return str((backend.get("service") or {}).get("name", ""))
