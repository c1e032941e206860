"""Append-only audit log, hash-chained per stream, so an edited, removed, inserted or reordered
event is detectable.

Streams. Each execution has its own, `execution:<id>` (claimed, steps started and finished, paused,
ended), written only by the worker holding its lease. Each plan has one, `plan:<id>`, for what people
and policy did to it (created, approved, cancelled, resolved, ...). Each workspace has `team` for
events outside any plan (freezes); it also holds, unchanged, every event written before streams
existed, when the whole workspace was one chain. Every event and every head carries its team id.

Chain. Each event has its stream, its position `seq` (1, 2, ...), the hash of the event before it
in the stream (`prev_hash`, GENESIS_HASH for the first) and its own `hash` over its content and
`prev_hash`. A stream's head row (`audit_chains`) holds its last `seq` and hash, and every append
moves it in the same statement or transaction as the event. `verify_chain` walks each stream and
finds an edited event (its hash no longer matches), an event removed, inserted or moved (a gap in
`seq`, or a `prev_hash` that is not the previous event's hash), and events cut from the end (the
head no longer matches the last event). The heads live in the same database, so the chain shows
changes made by hand or by a bug; it cannot show a stream removed together with its head, or events
rewritten with their hashes and heads, which only a copy of the heads kept elsewhere would catch.

Writers. One stream's appends are serialised by its head row alone, so workers running different
executions never wait on each other. The worker compares-and-sets the head of its execution's
stream (`seq` still what it last wrote), which is also its lease check: a worker that took the
execution over has appended to the stream since. Everyone else goes through `record`, which bumps
the head under its row lock (SQLite's BEGIN IMMEDIATE already serialises writers).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, exists, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utcnow
from bot.db.engine import upsert_insert
from bot.db.models import AuditChain, AuditEvent

GENESIS_HASH = "0" * 64
TEAM_STREAM = "team"
EXECUTION_STREAM_PREFIX = "execution:"
# What an event's hash covers. The stream and position are left out: the links already fix them,
# and the events written before streams existed were hashed without them.
_HASHED = ("prev_hash", "team_id", "plan_id", "actor_id", "kind", "detail", "created_at")


class AuditKind(StrEnum):
    PLAN_CREATED = "plan.created"
    PLAN_APPROVED = "plan.approved"
    PLAN_REJECTED = "plan.rejected"
    PLAN_CANCELLED = "plan.cancelled"
    PLAN_DRY_RUN = "plan.dry_run"
    PLAN_RESOLVED = "plan.resolved"
    PLAN_BLOCKED = "plan.blocked"
    BREAK_GLASS = "plan.break_glass"
    PLAN_REVISED = "plan.revised"
    PLAN_ESCALATED = "plan.escalated"
    PLAN_EXPIRED = "plan.expired"
    FREEZE_STARTED = "freeze.started"
    FREEZE_LIFTED = "freeze.lifted"
    EXECUTION_STARTED = "execution.started"
    EXECUTION_PAUSED = "execution.paused"
    EXECUTION_RELEASED = "execution.released"
    EXECUTION_FINISHED = "execution.finished"
    STEP_STARTED = "step.started"
    STEP_FINISHED = "step.finished"
    API_CALL = "api.call"
    API_TOKEN_CREATED = "api.token_created"
    API_TOKEN_REVOKED = "api.token_revoked"
    MODEL_REQUEST = "model.request"
    INVESTIGATION_READ = "investigation.read"
    INVESTIGATION_REFUSED = "investigation.refused"
    MEMORY_ADDED = "memory.added"
    MEMORY_DELETED = "memory.deleted"
    RUNBOOK_SAVED = "runbook.saved"
    PLAYBOOK_SAVED = "playbook.saved"
    SCHEDULE_CREATED = "schedule.created"
    SCHEDULE_CHANGED = "schedule.changed"
    SCHEDULE_DELETED = "schedule.deleted"
    SCHEDULE_FIRED = "schedule.fired"
    SESSION_STARTED = "session.started"
    SESSION_MEMBER_JOINED = "session.member_joined"
    SESSION_MEMBER_LEFT = "session.member_left"
    SESSION_PLAN_LINKED = "session.plan_linked"
    SESSION_ENDED = "session.ended"


def plan_stream(plan_id: int) -> str:
    return f"plan:{plan_id}"


def execution_stream(execution_id: int) -> str:
    return f"{EXECUTION_STREAM_PREFIX}{execution_id}"


@dataclass(frozen=True)
class ChainHead:
    """Where a stream ends: its last event's position and hash (0 and GENESIS_HASH when empty)."""

    team_id: str
    stream: str
    seq: int = 0
    hash: str = GENESIS_HASH


@dataclass(frozen=True)
class Sealed:
    """An event hashed onto `after`, ready to append; `head` is the stream's head once it is."""

    after: ChainHead
    row: dict[str, Any]

    @property
    def head(self) -> ChainHead:
        return replace(self.after, seq=self.row["seq"], hash=self.row["hash"])


@dataclass(frozen=True)
class ChainBreak:
    """The first place a team's audit log stops matching its chains."""

    stream: str
    seq: int
    reason: str
    event_id: int | None = None

    def line(self) -> str:
        """Where and why, on one line: "stream plan:3, event 2 (id 17): its content does not match …"."""
        event = f" (id {self.event_id})" if self.event_id is not None else ""
        return f"stream {self.stream}, event {self.seq}{event}: {self.reason}"


def seal(
    after: ChainHead,
    *,
    actor_id: str,
    kind: AuditKind,
    plan_id: int | None = None,
    detail: dict[str, Any] | None = None,
    created_at: datetime | None = None,
) -> Sealed:
    row: dict[str, Any] = {
        "team_id": after.team_id,
        "stream": after.stream,
        "seq": after.seq + 1,
        "plan_id": plan_id,
        "actor_id": actor_id,
        "kind": str(kind),
        "detail": detail or {},
        "created_at": created_at or utcnow(),
        "prev_hash": after.hash,
    }
    row["hash"] = _hash_of(row)
    return Sealed(after=after, row=row)


async def record(
    session: AsyncSession,
    *,
    team_id: str,
    actor_id: str,
    kind: AuditKind,
    plan_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event to its plan's stream (or the team's) inside the caller's transaction.

    The head is bumped first, which takes its row lock until the transaction ends, so the event is
    hashed onto the true end of the stream however many writers race.
    """
    stream = TEAM_STREAM if plan_id is None else plan_stream(plan_id)
    bump = (
        upsert_insert(session.bind.dialect.name, AuditChain)
        .values(team_id=team_id, stream=stream, seq=1, head_hash=GENESIS_HASH)
        .on_conflict_do_update(index_elements=["team_id", "stream"], set_={"seq": AuditChain.seq + 1})
        .returning(AuditChain.seq, AuditChain.head_hash)
    )
    seq, prev_hash = (await session.execute(bump)).one()
    head = ChainHead(team_id=team_id, stream=stream, seq=seq - 1, hash=prev_hash)
    event = seal(head, actor_id=actor_id, kind=kind, plan_id=plan_id, detail=detail)
    await session.execute(insert(AuditEvent).values(event.row))
    await session.execute(
        update(AuditChain)
        .where(AuditChain.team_id == team_id, AuditChain.stream == stream)
        .values(head_hash=event.row["hash"])
    )


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


@dataclass(frozen=True)
class Verification:
    """What walking a team's log found: how much was checked, and the first break if any."""

    team_id: str
    events: int
    streams: int
    broken: ChainBreak | None


async def verify_chain(session: AsyncSession, *, team_id: str, page_size: int = 500) -> ChainBreak | None:
    """Walk every stream of the team, page by page, against its head; the first break, or None."""
    return (await verify_team(session, team_id=team_id, page_size=page_size)).broken


async def verify_team(session: AsyncSession, *, team_id: str, page_size: int = 500) -> Verification:
    """Walk every stream of the team in (stream, seq) order, `page_size` events at a time, so memory
    stays bounded however long the log is."""
    walk = _Walk()
    if (orphan := await _head_without_events(session, team_id)) is not None:
        broken = ChainBreak(stream=orphan.stream, seq=1, reason=f"no events, but the head is at {orphan.seq}")
        return Verification(team_id=team_id, events=0, streams=0, broken=broken)
    after: tuple[str, int] = ("", 0)
    while True:
        page = (
            await session.execute(
                # Columns, not entities: the walk keeps no rows, and neither does the session.
                select(*AuditEvent.__table__.c, AuditChain.seq.label("head_seq"), AuditChain.head_hash)
                .outerjoin(
                    AuditChain,
                    and_(AuditChain.team_id == AuditEvent.team_id, AuditChain.stream == AuditEvent.stream),
                )
                .where(AuditEvent.team_id == team_id, tuple_(AuditEvent.stream, AuditEvent.seq) > after)
                .order_by(AuditEvent.stream, AuditEvent.seq)
                .limit(page_size)
            )
        ).all()
        if not page:
            return walk.verification(team_id, walk.end())
        for event in page:
            if (broken := walk.step(event, event.head_seq, event.head_hash)) is not None:
                return walk.verification(team_id, broken)
        after = (page[-1].stream, page[-1].seq)


async def teams(session: AsyncSession, *, after: str = "", limit: int = 100) -> Sequence[str]:
    """The workspaces that have an audit log, in order, a page at a time."""
    rows = await session.scalars(
        select(AuditChain.team_id)
        .where(AuditChain.team_id > after)
        .distinct()
        .order_by(AuditChain.team_id)
        .limit(limit)
    )
    return rows.all()


class _Walk:
    """Follows the events of a team in (stream, seq) order, checking each link and each stream's end."""

    def __init__(self) -> None:
        self._stream = ""
        self._seq = 0
        self._hash = GENESIS_HASH
        self._head: tuple[int | None, str | None] = (None, None)
        self._events = 0
        self._streams = 0

    def verification(self, team_id: str, broken: ChainBreak | None) -> Verification:
        return Verification(team_id=team_id, events=self._events, streams=self._streams, broken=broken)

    def step(self, event: Any, head_seq: int | None, head_hash: str | None) -> ChainBreak | None:
        """`event` has an audit event's columns (a row or an AuditEvent)."""
        if event.stream != self._stream:
            if (broken := self.end()) is not None:
                return broken
            self._stream, self._seq, self._hash = event.stream, 0, GENESIS_HASH
            self._head = (head_seq, head_hash)
            self._streams += 1
        problem = self._problem(event)
        if problem is not None:
            return ChainBreak(stream=event.stream, seq=event.seq, reason=problem, event_id=event.id)
        self._seq, self._hash = event.seq, event.hash
        self._events += 1
        return None

    def end(self) -> ChainBreak | None:
        """The stream followed so far must end exactly at its head."""
        if not self._stream:
            return None
        head_seq, head_hash = self._head
        if head_seq is None:
            return ChainBreak(stream=self._stream, seq=self._seq, reason="the stream has no head")
        if (head_seq, head_hash) != (self._seq, self._hash):
            reason = f"the stream ends at event {self._seq}, but its head is at {head_seq}"
            if head_seq == self._seq:
                reason = f"event {self._seq} is not the event its head names"
            return ChainBreak(stream=self._stream, seq=self._seq, reason=reason)
        return None

    def _problem(self, event: Any) -> str | None:
        if event.seq != self._seq + 1:
            return f"event {self._seq + 1} is missing (the next is {event.seq})"
        if event.prev_hash != self._hash:
            return "it does not link to the event before it"
        if event.hash != _hash_of(_content(event)):
            return "its content does not match its hash"
        return None


def _hash_of(row: dict[str, Any]) -> str:
    fields = {name: row[name] for name in _HASHED} | {"created_at": row["created_at"].isoformat()}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _content(event: Any) -> dict[str, Any]:
    return {name: getattr(event, name) for name in _HASHED}


async def _head_without_events(session: AsyncSession, team_id: str) -> AuditChain | None:
    has_events = exists().where(
        AuditEvent.team_id == AuditChain.team_id, AuditEvent.stream == AuditChain.stream
    )
    return await session.scalar(select(AuditChain).where(AuditChain.team_id == team_id, ~has_events).limit(1))
