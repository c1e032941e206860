"""Read-only diagnostics of a service in trouble, through the tool registry's read actions: recent
Kubernetes events and pod restarts, the last deploys (Argo CD, helm), slow traces (Tempo) and the
service's other alerts (Alertmanager). Sources are read at once; each section says what it read, or
that its source failed or is not configured, rather than vanishing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.domain import DiagnosticSection, DiagnosticState, IncidentView
from bot.incident_settings import ServiceConfig
from bot.steps import run_action
from tools.common.registry import Registry

SHOWN = 8
Lines = Callable[[dict[str, Any]], list[str]]


@dataclass(frozen=True)
class Source:
    title: str
    action: str
    # None: this service's configuration does not say what to read; `missing` says which setting.
    args: dict[str, Any] | None
    lines: Lines
    missing: str = ""


def namespace_of(view: IncidentView, service: ServiceConfig | None) -> str:
    return (service.namespace if service else None) or view.labels.get("namespace") or "default"


def sources(view: IncidentView, service: ServiceConfig | None) -> list[Source]:
    namespace = namespace_of(view, service)
    deployment = (service.deployment if service else None) or view.service
    config = f"INCIDENT_SERVICES.{view.service or '<service>'}"
    argocd_app = service.argocd_app if service else None
    helm_release = service.helm_release if service else None
    slow_ms = service.slow_trace_ms if service else ServiceConfig().slow_trace_ms
    has_deployment = bool(deployment)
    return [
        Source(
            "Kubernetes events",
            "kubernetes.list_events",
            {"namespace": namespace, "type": "Warning", "limit": 50} if has_deployment else None,
            lambda data: _events(data, deployment),
            "no service label to find its Deployment by",
        ),
        Source(
            "Pods and restarts",
            "kubernetes.list_pods",
            {"namespace": namespace, "deployment": deployment} if has_deployment else None,
            _pods,
            "no service label to find its Deployment by",
        ),
        Source(
            "Last deploys (Argo CD)",
            "argocd.list_history",
            {"name": argocd_app} if argocd_app else None,
            _argocd_history,
            f"no argocd_app in {config}",
        ),
        Source(
            "Last deploys (helm)",
            "helm.get_history",
            {"namespace": namespace, "release": helm_release, "max_revisions": 5} if helm_release else None,
            _helm_history,
            f"no helm_release in {config}",
        ),
        Source(
            "Slow traces (Tempo)",
            "tempo.query_traces",
            {"query": _slow_traces(view.service, slow_ms), "since_minutes": 60, "limit": 20}
            if view.service
            else None,
            _traces,
            "no service label to search traces by",
        ),
        Source(
            "Firing alerts of the service",
            "alertmanager.list_alerts",
            {"matchers": [f'service="{_quoted(view.service)}"'], "silenced": False, "inhibited": False}
            if view.service
            else None,
            _alerts,
            "no service label to match alerts by",
        ),
    ]


async def read(
    registry: Registry, view: IncidentView, service: ServiceConfig | None
) -> list[DiagnosticSection]:
    return list(await asyncio.gather(*(_read_one(registry, source) for source in sources(view, service))))


async def _read_one(registry: Registry, source: Source) -> DiagnosticSection:
    tool = source.action.split(".", 1)[0]
    if source.action not in registry:
        return _section(source, DiagnosticState.UNAVAILABLE, note=f"the {tool} tool is not configured here")
    if source.args is None:
        return _section(source, DiagnosticState.UNAVAILABLE, note=source.missing)
    outcome = await run_action(registry, source.action, source.args)
    if not outcome.ok:
        return _section(source, DiagnosticState.FAILED, note=outcome.error)
    try:
        lines = source.lines(outcome.data)
    except (KeyError, TypeError, ValueError) as exc:
        return _section(
            source, DiagnosticState.FAILED, note=f"unexpected answer ({type(exc).__name__}: {exc})"
        )
    return _section(source, DiagnosticState.OK, lines=lines[:SHOWN], note=outcome.summary)


def _section(
    source: Source, state: DiagnosticState, *, lines: list[str] | None = None, note: str = ""
) -> DiagnosticSection:
    return DiagnosticSection(
        title=source.title, source=source.action, state=state, lines=lines or [], note=note
    )


def _events(data: dict[str, Any], deployment: str) -> list[str]:
    # A Deployment's events are its own, its ReplicaSets' and its pods' (all named after it).
    mine = [e for e in data["events"] if e["object"].split("/", 1)[-1].startswith(deployment)]
    return [
        f"{e['last_seen'][11:19]} {e['reason']} {e['object']}: {e['message']}"
        + (f" (x{e['count']})" if e["count"] > 1 else "")
        for e in mine
    ] or ["no Warning events"]


def _pods(data: dict[str, Any]) -> list[str]:
    pods = sorted(data["pods"], key=lambda p: -int(p["restarts"]))
    return [f"{p['name']}: {p['status']}, {p['ready']} ready, {p['restarts']} restarts" for p in pods] or [
        "no pods"
    ]


def _argocd_history(data: dict[str, Any]) -> list[str]:
    return [
        f"id {h['id']} {h['revision'][:12]} deployed {h['deployed_at']}"
        + (f" by {h['initiated_by']}" if h["initiated_by"] else "")
        for h in data["history"]
    ] or ["no deployments"]


def _helm_history(data: dict[str, Any]) -> list[str]:
    return [
        f"revision {r['revision']} {r['status']} {r['chart']} at {r['updated']}: {r['description']}"
        for r in reversed(data["revisions"])
    ]


def _traces(data: dict[str, Any]) -> list[str]:
    return [
        f"{t['duration_ms']} ms {t['root_service']} {t['root_name']} (trace {t['trace_id']})"
        for t in data["traces"]
    ] or ["no traces that slow in the last hour"]


def _alerts(data: dict[str, Any]) -> list[str]:
    return [
        f"{a.get('labels', {}).get('alertname', '?')} ({a.get('status', {}).get('state', '?')}) since "
        f"{str(a.get('startsAt', ''))[:19]}"
        for a in data["alerts"]
    ] or ["none"]


def _slow_traces(service: str, slow_ms: int) -> str:
    return f'{{ resource.service.name = "{_quoted(service)}" && duration > {slow_ms}ms }}'


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
