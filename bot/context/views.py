"""Reading the context graph: one service's context, what changed around it, how many services depend
on it (a plan's blast radius), and where its owners listen (incident routing). Services take a
session and never commit, like every other service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import store
from bot.context.graph import Edge, Node, NodeKind, Relation
from bot.db.models import ContextNode, ContextSnapshot, Plan
from bot.domain import ContextDiff, PlanStatus, RecentChange, RelatedNode, ServiceContext
from bot.errors import NotFound

RECENT_CHANGES = 5
REFRESH_HINT = "`/carapulse context refresh` takes one now"


async def describe(session: AsyncSession, *, team_id: str, name: str) -> ServiceContext:
    snapshot = await _latest(session, team_id)
    service = await _service(session, snapshot, name)
    edges, nodes = await store.neighbourhood(session, snapshot, service.key)
    runs_on = _ends(edges, nodes, source=service.key, relation=Relation.RUNS_ON)
    workload_keys = [e.target for e in edges if e.source == service.key and e.relation == Relation.RUNS_ON]
    deployers = await store.sources_of(session, snapshot, [service.key, *workload_keys], Relation.DEPLOYS)
    exposers = await store.sources_of(session, snapshot, workload_keys, Relation.EXPOSES)
    exposers += await store.sources_of(session, snapshot, exposers, Relation.EXPOSES)
    more = await _nodes(session, snapshot, [*deployers, *exposers])
    dependents = await store.dependents(session, snapshot, service.key)
    names = [service.name, *(nodes[k].name for k in workload_keys if k in nodes)]
    return ServiceContext(
        name=service.name,
        environment=service.environment,
        owner=service.owner,
        channel=str(service.attributes.get("channel") or ""),
        runs_on=runs_on,
        depends_on=[
            nodes[e.target].name
            for e in edges
            if e.source == service.key and e.relation == Relation.DEPENDS_ON
        ],
        dependents=[_service_name(k) for k in dependents],
        exposed_by=[_related(more[k]) for k in exposers if k in more],
        deployed_by=[_related(more[k]) for k in deployers if k in more],
        alerts=[
            _related(nodes[e.source])
            for e in edges
            if e.target == service.key and e.relation == Relation.ALERTS
        ],
        recent_changes=await recent_changes(session, team_id=team_id, names=names),
        snapshot_taken_at=snapshot.taken_at,
        snapshot_checked_at=snapshot.checked_at,
        notes=list(snapshot.notes),
    )


async def neighbourhood(
    session: AsyncSession, *, team_id: str, name: str
) -> tuple[Node, list[Edge], dict[str, Node]]:
    """The service and every edge touching it, with the nodes at their ends (what the picture draws)."""
    snapshot = await _latest(session, team_id)
    service = await _service(session, snapshot, name)
    edges, nodes = await store.neighbourhood(session, snapshot, service.key)
    return service, edges, nodes


async def diff(session: AsyncSession, *, team_id: str, name: str, since: datetime | None) -> ContextDiff:
    """What changed around the service from the snapshot in effect at `since` (default: the one
    before the latest) to the latest."""
    newest = await _latest(session, team_id)
    older = await (
        store.before(session, newest) if since is None else store.at(session, team_id=team_id, moment=since)
    )
    if older is None:
        raise NotFound(
            f"There is no context snapshot from before {_when(since or newest.taken_at)} to compare with."
        )
    service = await store.find_service(session, newest, name) or await store.find_service(
        session, older, name
    )
    if service is None:
        raise NotFound(f"There is no service `{name}` in the context graph then or now.")
    was_edges, was_nodes = await store.neighbourhood(session, older, service.key)
    now_edges, now_nodes = await store.neighbourhood(session, newest, service.key)
    labels = {**{k: n.label() for k, n in was_nodes.items()}, **{k: n.label() for k, n in now_nodes.items()}}
    return ContextDiff(
        service=service.name,
        since=older.taken_at,
        until=newest.taken_at,
        added=[_edge_words(e, labels) for e in sorted(set(now_edges) - set(was_edges), key=_order)],
        removed=[_edge_words(e, labels) for e in sorted(set(was_edges) - set(now_edges), key=_order)],
        changed=[
            line
            for k in sorted(set(was_nodes) & set(now_nodes))
            for line in _node_changes(was_nodes[k], now_nodes[k])
        ],
    )


async def dependents_of(session: AsyncSession, *, team_id: str, name: str) -> list[str] | None:
    """The services that depend on `name` (directly or not) in the latest snapshot; None when the
    workspace has no graph or it does not know `name`, so a plan card can say it could not tell."""
    snapshot = await store.latest(session, team_id=team_id)
    service = None if snapshot is None else await store.find_service(session, snapshot, name)
    if snapshot is None or service is None:
        return None
    return [_service_name(k) for k in await store.dependents(session, snapshot, service.key)]


async def owner_channel(session: AsyncSession, *, team_id: str, service: str) -> str | None:
    """The channel the mapping file names for the service's owners, for routing an incident; None
    when the graph does not know the service or no channel is set."""
    snapshot = await store.latest(session, team_id=team_id)
    found = None if snapshot is None else await store.find_service(session, snapshot, service)
    channel = None if found is None else found.attributes.get("channel")
    return str(channel) if channel else None


async def recent_changes(session: AsyncSession, *, team_id: str, names: Sequence[str]) -> list[RecentChange]:
    """The newest plans whose target is one of `names` (the service or its workloads)."""
    rows = await session.scalars(
        select(Plan)
        .where(Plan.team_id == team_id, Plan.target["name"].as_string().in_(list(names)))
        .order_by(Plan.id.desc())
        .limit(RECENT_CHANGES)
    )
    return [
        RecentChange(plan_id=p.id, summary=p.summary, status=PlanStatus(p.status), created_at=p.created_at)
        for p in rows
    ]


async def _latest(session: AsyncSession, team_id: str) -> ContextSnapshot:
    snapshot = await store.latest(session, team_id=team_id)
    if snapshot is None:
        raise NotFound(f"This workspace has no context graph yet; {REFRESH_HINT}.")
    return snapshot


async def _service(session: AsyncSession, snapshot: ContextSnapshot, name: str) -> Node:
    service = await store.find_service(session, snapshot, name)
    if service is not None:
        return service
    known = await session.scalars(
        select(ContextNode.name)
        .where(ContextNode.snapshot_id == snapshot.id, ContextNode.kind == NodeKind.SERVICE)
        .order_by(ContextNode.name)
        .limit(10)
    )
    listed = ", ".join(f"`{n}`" for n in known) or "none"
    raise NotFound(f"There is no service `{name}` in the context graph (some it knows: {listed}).")


async def _nodes(session: AsyncSession, snapshot: ContextSnapshot, keys: Sequence[str]) -> dict[str, Node]:
    found = {}
    for node_key in dict.fromkeys(keys):
        if (node := await store.node(session, snapshot, node_key)) is not None:
            found[node_key] = node
    return found


def _ends(
    edges: Sequence[Edge], nodes: Mapping[str, Node], *, source: str, relation: Relation
) -> list[RelatedNode]:
    return [
        _related(nodes[e.target])
        for e in edges
        if e.source == source and e.relation == relation and e.target in nodes
    ]


def _related(node: Node) -> RelatedNode:
    shown = ("health", "sync", "severity", "summary", "hosts", "images")
    detail = ", ".join(
        f"{name} {_value(node.attributes[name])}" for name in shown if node.attributes.get(name)
    )
    return RelatedNode(label=node.label(), detail=detail)


def _value(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _service_name(service_key: str) -> str:
    return service_key.removeprefix(f"{NodeKind.SERVICE}:")


def _edge_words(edge: Edge, labels: Mapping[str, str]) -> str:
    source, target = labels.get(edge.source, edge.source), labels.get(edge.target, edge.target)
    return f"{source} {edge.relation.replace('_', ' ')} {target}"


def _order(edge: Edge) -> tuple[str, str, str]:
    return edge.relation, edge.source, edge.target


def _node_changes(was: Node, now: Node) -> list[str]:
    pairs = [
        (field, getattr(was, field), getattr(now, field)) for field in ("owner", "environment", "namespace")
    ]
    pairs += [
        (name, was.attributes.get(name), now.attributes.get(name))
        for name in sorted(set(was.attributes) | set(now.attributes))
    ]
    return [f"{now.label()}: {name} {_shown(old)} → {_shown(new)}" for name, old, new in pairs if old != new]


def _shown(value: Any) -> str:
    return "(none)" if value in (None, "") else _value(value)


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"
