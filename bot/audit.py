"""Append-only audit log, hash-chained per workspace so a removed or edited row is detectable."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utcnow
from bot.db.models import AuditEvent

GENESIS_HASH = "0" * 64


class AuditKind(StrEnum):
    PLAN_CREATED = "plan.created"
    PLAN_APPROVED = "plan.approved"
    PLAN_REJECTED = "plan.rejected"
    PLAN_CANCELLED = "plan.cancelled"
    PLAN_DRY_RUN = "plan.dry_run"
    PLAN_RESOLVED = "plan.resolved"
    PLAN_BLOCKED = "plan.blocked"
    BREAK_GLASS = "plan.break_glass"
    FREEZE_STARTED = "freeze.started"
    FREEZE_LIFTED = "freeze.lifted"
    EXECUTION_STARTED = "execution.started"
    EXECUTION_PAUSED = "execution.paused"
    EXECUTION_FINISHED = "execution.finished"
    STEP_STARTED = "step.started"
    STEP_FINISHED = "step.finished"


async def record(
    session: AsyncSession,
    *,
    team_id: str,
    actor_id: str,
    kind: AuditKind,
    plan_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event inside the caller's transaction.

    The chain head is read under a per-team lock (an advisory lock on PostgreSQL; SQLite
    transactions already hold the write lock from BEGIN IMMEDIATE), and the unique `prev_hash`
    constraint turns any writer that slipped past the lock into an error rather than a fork.
    """
    await _lock_chain(session, team_id)
    prev_hash = await _chain_head(session, team_id)
    created_at = utcnow()
    body = detail or {}
    event = AuditEvent(
        team_id=team_id,
        plan_id=plan_id,
        actor_id=actor_id,
        kind=str(kind),
        detail=body,
        created_at=created_at,
        prev_hash=prev_hash,
        hash=event_hash(
            prev_hash=prev_hash,
            team_id=team_id,
            plan_id=plan_id,
            actor_id=actor_id,
            kind=str(kind),
            detail=body,
            created_at=created_at.isoformat(),
        ),
    )
    session.add(event)
    await session.flush()
    return event


def event_hash(**fields: Any) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def for_plan(
    session: AsyncSession, *, team_id: str, plan_id: int, limit: int = 100, offset: int = 0
) -> Sequence[AuditEvent]:
    rows = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.team_id == team_id, AuditEvent.plan_id == plan_id)
        .order_by(AuditEvent.id)
        .limit(limit)
        .offset(offset)
    )
    return rows.all()


async def verify_chain(session: AsyncSession, *, team_id: str, page_size: int = 500) -> int | None:
    """Walk the team's chain page by page; return the id of the first broken event, or None."""
    expected_prev = GENESIS_HASH
    last_id = 0
    while True:
        page = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.team_id == team_id, AuditEvent.id > last_id)
                .order_by(AuditEvent.id)
                .limit(page_size)
            )
        ).all()
        if not page:
            return None
        for event in page:
            recomputed = event_hash(
                prev_hash=event.prev_hash,
                team_id=event.team_id,
                plan_id=event.plan_id,
                actor_id=event.actor_id,
                kind=event.kind,
                detail=event.detail,
                created_at=event.created_at.isoformat(),
            )
            if event.prev_hash != expected_prev or event.hash != recomputed:
                return event.id
            expected_prev = event.hash
            last_id = event.id


async def _chain_head(session: AsyncSession, team_id: str) -> str:
    head = await session.scalar(
        select(AuditEvent.hash).where(AuditEvent.team_id == team_id).order_by(AuditEvent.id.desc()).limit(1)
    )
    return head or GENESIS_HASH


async def _lock_chain(session: AsyncSession, team_id: str) -> None:
    if session.bind.dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"),
            {"key": _lock_key(team_id)},
        )


def _lock_key(team_id: str) -> int:
    digest = hashlib.sha256(f"carapulse.audit:{team_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
