"""Snapshots of a workspace's context graph in the database, and the queries that read one service's
neighbourhood out of them without loading the whole graph.

A collection that finds the same graph as the latest snapshot (same digest) only moves its
`checked_at`, so snapshots mark changes and `context diff` compares two of them. Old snapshots are
pruned after the retention period, always keeping each workspace's latest.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utcnow
from bot.context.graph import Edge, Graph, Node, NodeKind, Relation, key
from bot.db.engine import upsert_insert
from bot.db.models import ContextEdge, ContextNode, ContextSnapshot, Lease

# The most dependents a blast radius counts, and the depth it follows depends_on edges to.
MAX_DEPENDENTS = 500
MAX_DEPTH = 10
INSERT_BATCH = 500


async def save(
    session: AsyncSession, *, team_id: str, graph: Graph, notes: Sequence[str]
) -> tuple[ContextSnapshot, bool]:
    """Store the graph as the team's newest snapshot; (snapshot, whether it is new)."""
    now = utcnow()
    digest = graph.digest()
    latest_snapshot = await latest(session, team_id=team_id)
    if latest_snapshot is not None and latest_snapshot.digest == digest:
        latest_snapshot.checked_at, latest_snapshot.notes = now, list(notes)
        return latest_snapshot, False
    snapshot = ContextSnapshot(
        team_id=team_id,
        taken_at=now,
        checked_at=now,
        digest=digest,
        notes=list(notes),
        node_count=len(graph.nodes),
        edge_count=len(graph.edges),
    )
    session.add(snapshot)
    await session.flush()
    nodes = [_node_row(snapshot.id, team_id, node) for node in graph.nodes.values()]
    edges = [
        {
            "snapshot_id": snapshot.id,
            "team_id": team_id,
            "source": e.source,
            "target": e.target,
            "relation": e.relation,
        }
        for e in sorted(graph.edges, key=lambda e: (e.source, e.target, e.relation))
    ]
    for rows, model in ((nodes, ContextNode), (edges, ContextEdge)):
        for start in range(0, len(rows), INSERT_BATCH):
            await session.execute(insert(model), rows[start : start + INSERT_BATCH])
    return snapshot, True


async def latest(session: AsyncSession, *, team_id: str) -> ContextSnapshot | None:
    return await session.scalar(
        select(ContextSnapshot)
        .where(ContextSnapshot.team_id == team_id)
        .order_by(ContextSnapshot.taken_at.desc(), ContextSnapshot.id.desc())
        .limit(1)
    )


async def at(session: AsyncSession, *, team_id: str, moment: datetime) -> ContextSnapshot | None:
    """The snapshot that was the latest at `moment`, or when there was none yet, the first after it
    (the graph as first seen since then)."""
    then = await session.scalar(
        select(ContextSnapshot)
        .where(ContextSnapshot.team_id == team_id, ContextSnapshot.taken_at <= moment)
        .order_by(ContextSnapshot.taken_at.desc(), ContextSnapshot.id.desc())
        .limit(1)
    )
    if then is not None:
        return then
    return await session.scalar(
        select(ContextSnapshot)
        .where(ContextSnapshot.team_id == team_id, ContextSnapshot.taken_at > moment)
        .order_by(ContextSnapshot.taken_at, ContextSnapshot.id)
        .limit(1)
    )


async def before(session: AsyncSession, snapshot: ContextSnapshot) -> ContextSnapshot | None:
    return await session.scalar(
        select(ContextSnapshot)
        .where(ContextSnapshot.team_id == snapshot.team_id, ContextSnapshot.id < snapshot.id)
        .order_by(ContextSnapshot.id.desc())
        .limit(1)
    )


async def find_service(session: AsyncSession, snapshot: ContextSnapshot, name: str) -> Node | None:
    """The service called `name`, or the service that runs on a workload called `name`."""
    found = await node(session, snapshot, key(NodeKind.SERVICE, name))
    if found is not None:
        return found
    runner = await session.scalar(
        select(ContextEdge.source)
        .join(
            ContextNode,
            (ContextNode.snapshot_id == ContextEdge.snapshot_id) & (ContextNode.key == ContextEdge.target),
        )
        .where(
            ContextEdge.snapshot_id == snapshot.id,
            ContextEdge.relation == Relation.RUNS_ON,
            ContextNode.kind == NodeKind.WORKLOAD,
            ContextNode.name == name,
        )
        .order_by(ContextEdge.source)
        .limit(1)
    )
    return None if runner is None else await node(session, snapshot, runner)


async def node(session: AsyncSession, snapshot: ContextSnapshot, node_key: str) -> Node | None:
    row = await session.scalar(
        select(ContextNode).where(ContextNode.snapshot_id == snapshot.id, ContextNode.key == node_key)
    )
    return None if row is None else _node(row)


async def neighbourhood(
    session: AsyncSession, snapshot: ContextSnapshot, node_key: str, *, limit: int = 200
) -> tuple[list[Edge], dict[str, Node]]:
    """The edges touching `node_key`, and the nodes at their ends (at most `limit` edges)."""
    rows = (
        await session.scalars(
            select(ContextEdge)
            .where(
                ContextEdge.snapshot_id == snapshot.id,
                or_(ContextEdge.source == node_key, ContextEdge.target == node_key),
            )
            .order_by(ContextEdge.relation, ContextEdge.source, ContextEdge.target)
            .limit(limit)
        )
    ).all()
    edges = [Edge(row.source, row.target, Relation(row.relation)) for row in rows]
    keys = {node_key} | {end for edge in edges for end in (edge.source, edge.target)}
    nodes = (
        await session.scalars(
            select(ContextNode).where(ContextNode.snapshot_id == snapshot.id, ContextNode.key.in_(keys))
        )
    ).all()
    return edges, {row.key: _node(row) for row in nodes}


async def sources_of(
    session: AsyncSession, snapshot: ContextSnapshot, targets: Sequence[str], relation: Relation
) -> list[str]:
    rows = await session.scalars(
        select(ContextEdge.source)
        .where(
            ContextEdge.snapshot_id == snapshot.id,
            ContextEdge.relation == relation,
            ContextEdge.target.in_(list(targets)),
        )
        .distinct()
        .order_by(ContextEdge.source)
        .limit(MAX_DEPENDENTS)
    )
    return list(rows.all())


async def dependents(session: AsyncSession, snapshot: ContextSnapshot, service_key: str) -> list[str]:
    """Every service that depends on `service_key`, directly or through others (depends_on followed
    backwards, level by level, up to MAX_DEPTH levels and MAX_DEPENDENTS services)."""
    found: set[str] = set()
    frontier = [service_key]
    for _ in range(MAX_DEPTH):
        level = [
            s
            for s in await sources_of(session, snapshot, frontier, Relation.DEPENDS_ON)
            if s not in found and s != service_key
        ]
        if not level or len(found) >= MAX_DEPENDENTS:
            break
        found.update(level)
        frontier = level
    return sorted(found)[:MAX_DEPENDENTS]


async def teams(session: AsyncSession, *, after: str = "", limit: int = 100) -> Sequence[str]:
    """Workspaces that have a context graph, a page at a time."""
    rows = await session.scalars(
        select(ContextSnapshot.team_id)
        .where(ContextSnapshot.team_id > after)
        .distinct()
        .order_by(ContextSnapshot.team_id)
        .limit(limit)
    )
    return rows.all()


async def prune(session: AsyncSession, *, team_id: str, keep: timedelta) -> int:
    """Remove the team's snapshots taken before `keep` ago, except its latest; how many went."""
    newest = await latest(session, team_id=team_id)
    if newest is None:
        return 0
    cutoff = utcnow() - keep
    old = select(ContextSnapshot.id).where(
        ContextSnapshot.team_id == team_id, ContextSnapshot.taken_at < cutoff, ContextSnapshot.id != newest.id
    )
    ids = list((await session.scalars(old.limit(1000))).all())
    if ids:
        # Nodes and edges go with their snapshot (ON DELETE CASCADE; SQLite enforces it per connection).
        await session.execute(delete(ContextEdge).where(ContextEdge.snapshot_id.in_(ids)))
        await session.execute(delete(ContextNode).where(ContextNode.snapshot_id.in_(ids)))
        await session.execute(delete(ContextSnapshot).where(ContextSnapshot.id.in_(ids)))
    return len(ids)


async def take_lease(session: AsyncSession, *, name: str, owner: str, seconds: float) -> bool:
    """Hold the lease `name` for `seconds` if it is free, expired, or already ours."""
    now = utcnow()
    claim = upsert_insert(session.bind.dialect.name, Lease).values(
        name=name, owner=owner, expires_at=now + timedelta(seconds=seconds)
    )
    await session.execute(claim.on_conflict_do_nothing(index_elements=["name"]))
    moved = await session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.owner == owner, Lease.expires_at < now))
        .values(owner=owner, expires_at=now + timedelta(seconds=seconds))
    )
    return bool(moved.rowcount)


def _node_row(snapshot_id: int, team_id: str, node: Node) -> dict[str, object]:
    return {
        "snapshot_id": snapshot_id,
        "team_id": team_id,
        "key": node.key,
        "kind": node.kind,
        "name": node.name[:300],
        "namespace": node.namespace[:63],
        "environment": node.environment[:64],
        "owner": node.owner[:200],
        "attributes": dict(node.attributes),
    }


def _node(row: ContextNode) -> Node:
    return Node(
        key=row.key,
        kind=NodeKind(row.kind),
        name=row.name,
        namespace=row.namespace,
        environment=row.environment,
        owner=row.owner,
        attributes=row.attributes,
    )
