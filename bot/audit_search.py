"""Searching a workspace's audit log: the filters a person types, and pages of events newest first.

Pages are taken by keyset on (created_at, id), on the index of migration 0015, so the hundredth page
costs what the first does. The token a page hands out for the next one carries the filters and where
the page ended; it is checked like any other input when it comes back from a button.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import ColumnElement, Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, moments
from bot.audit import AuditKind
from bot.db.models import AuditEvent
from bot.domain import AuditEntry, AuditPage
from bot.errors import UserError

PAGE_SIZE = 15
ACTIONS = sorted(kind.value for kind in AuditKind)
# "step" finds step.started and step.finished.
GROUPS = sorted({action.split(".")[0] for action in ACTIONS})
USAGE = (
    "Use `/carapulse audit [plan id] [@user] [action] [since <time>]`, e.g. "
    "`/carapulse audit #42`, `/carapulse audit <@U0123ABCDEF> plan.approved since 7d`."
)
_MENTION = re.compile(r"^<@(?P<id>[UW][A-Z0-9]{2,})(\|[^>]*)?>$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{8,}$")


class AuditFilter(BaseModel):
    """What to look for; every field left None matches everything."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    plan_id: int | None = None
    actor_id: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def words(self) -> str:
        parts = [
            f"plan #{self.plan_id}" if self.plan_id is not None else "",
            f"by <@{self.actor_id}>" if self.actor_id else "",
            f"action {self.action}" if self.action else "",
            f"since {self.since:%Y-%m-%d %H:%M} UTC" if self.since else "",
            f"until {self.until:%Y-%m-%d %H:%M} UTC" if self.until else "",
        ]
        return ", ".join(part for part in parts if part) or "everything"


class _Token(BaseModel):
    """Where a page ends: the filters and the (created_at, id) of its last event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    filter: AuditFilter
    before: tuple[datetime, int] | None = None


def parse(text: str, *, now: datetime) -> AuditFilter:
    """`#42 <@U0123ABCDEF> plan.approved since 2d` → a filter; UserError names the word it cannot read."""
    found: dict[str, Any] = {}
    words = text.split()
    while words:
        word = words.pop(0)
        if word.lower() == "since":
            if not words:
                raise UserError(f"`since` needs a time: {moments.FORMS}. {USAGE}")
            _put(found, "since", moments.moment(words.pop(0), now=now))
        elif word.lstrip("#").isdigit():
            _put(found, "plan_id", int(word.lstrip("#")))
        elif (mention := _MENTION.match(word)) or _USER_ID.match(word):
            _put(found, "actor_id", mention["id"] if mention else word)
        elif word.lower() in ACTIONS or word.lower() in GROUPS:
            _put(found, "action", word.lower())
        elif word.startswith("@"):
            raise UserError(
                f"`{word}` is a name, and I can only search by user id: give a mention "
                f"(`<@U0123ABCDEF>`) or the id itself (`U0123ABCDEF`)."
            )
        else:
            raise UserError(
                f"I cannot search for `{word}`: it is not a plan id, a user, or an action "
                f"({', '.join(GROUPS)}, or one of {', '.join(ACTIONS)}). {USAGE}"
            )
    return AuditFilter.model_validate(found)


def token(audit_filter: AuditFilter, before: tuple[datetime, int] | None = None) -> str:
    return _Token(filter=audit_filter, before=before).model_dump_json(exclude_none=True)


def from_token(text: str) -> tuple[AuditFilter, tuple[datetime, int] | None]:
    try:
        parsed = _Token.model_validate_json(text)
    except ValidationError:
        raise UserError("This page of the audit log cannot be read back; search again.") from None
    return parsed.filter, parsed.before


async def search(
    session: AsyncSession,
    *,
    team_id: str,
    audit_filter: AuditFilter,
    before: tuple[datetime, int] | None = None,
    page_size: int = PAGE_SIZE,
) -> AuditPage:
    """One page, newest first, of the team's events that match, older than `before` if given."""
    query = matching(team_id, audit_filter).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    if before is not None:
        query = query.where(tuple_(AuditEvent.created_at, AuditEvent.id) < before)
    rows = (await session.execute(query.limit(page_size + 1))).all()
    entries = [entry(row) for row in rows[:page_size]]
    older = None
    if len(rows) > page_size:
        older = token(audit_filter, (entries[-1].created_at, entries[-1].id))
    first = token(audit_filter) if before is not None else None
    return AuditPage(entries=entries, filters=audit_filter.words(), older=older, first=first)


def matching(team_id: str, audit_filter: AuditFilter) -> Select[Any]:
    """The columns of the team's events that match, unordered; search and export order them."""
    return select(*AuditEvent.__table__.c).where(*_conditions(team_id, audit_filter))


def entry(row: Any) -> AuditEntry:
    """An audit event (a row of its columns) as people read it."""
    detail = dict(row.detail or {})
    decision, reasons = _decision(row.kind, detail)
    return AuditEntry(
        id=row.id,
        team_id=row.team_id,
        created_at=row.created_at,
        stream=row.stream,
        seq=row.seq,
        plan_id=row.plan_id,
        execution_id=_execution_id(row.stream, detail),
        actor_id=row.actor_id,
        action=row.kind,
        decision=decision,
        reasons=reasons,
        detail=detail,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _put(found: dict[str, Any], key: str, value: Any) -> None:
    if key in found:
        raise UserError(f"Give one {key.replace('_id', '').replace('_', ' ')} at most. {USAGE}")
    found[key] = value


def _conditions(team_id: str, audit_filter: AuditFilter) -> Sequence[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [AuditEvent.team_id == team_id]
    if audit_filter.plan_id is not None:
        conditions.append(AuditEvent.plan_id == audit_filter.plan_id)
    if audit_filter.actor_id:
        conditions.append(AuditEvent.actor_id == audit_filter.actor_id)
    if audit_filter.action in GROUPS:
        group = [action for action in ACTIONS if action.split(".")[0] == audit_filter.action]
        conditions.append(AuditEvent.kind.in_(group))
    elif audit_filter.action:
        conditions.append(AuditEvent.kind == audit_filter.action)
    if audit_filter.since is not None:
        conditions.append(AuditEvent.created_at >= audit_filter.since)
    if audit_filter.until is not None:
        conditions.append(AuditEvent.created_at < audit_filter.until)
    return conditions


def _decision(kind: str, detail: dict[str, Any]) -> tuple[str, list[str]]:
    recorded = detail.get("decision")
    if isinstance(recorded, dict):
        return ("allow" if recorded.get("allow") else "deny"), [str(r) for r in recorded.get("reasons", [])]
    if kind == AuditKind.BREAK_GLASS:
        return "break-glass", [str(r) for r in detail.get("bypassed", [])]
    if kind == AuditKind.PLAN_BLOCKED:
        return "deny", [str(r) for r in detail.get("reasons", [])]
    return "", []


def _execution_id(stream: str, detail: dict[str, Any]) -> int | None:
    if stream.startswith(audit.EXECUTION_STREAM_PREFIX):
        return int(stream.removeprefix(audit.EXECUTION_STREAM_PREFIX))
    value = detail.get("execution_id")
    return value if isinstance(value, int) else None
