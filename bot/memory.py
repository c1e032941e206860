"""Operator memory: short notes about services that people want the next person to know ("checkout:
never scale below 3 in prod"). Plan cards for a service show its newest notes; the rest are listed
and searched a page at a time. Notes belong to one workspace; adding and deleting are audited."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, names, paging
from bot.audit import AuditKind
from bot.clock import utcnow
from bot.db.home_models import OperatorNote
from bot.domain import Actor, NoteView
from bot.errors import NotFound, PolicyDenied, UserError
from bot.paging import Page
from bot.policy import Policy

MAX_NOTE_LENGTH = 500
MIN_QUERY_LENGTH = 2
PAGE_SIZE = 10
# How many notes a plan card shows.
CARD_NOTES = 3


def check_text(raw: str) -> str:
    text = " ".join(raw.split())
    if not text:
        raise UserError("Write the note itself, e.g. `never scale below 3 in prod`.")
    if len(text) > MAX_NOTE_LENGTH:
        raise UserError(f"Keep a note under {MAX_NOTE_LENGTH} characters (this one has {len(text)}).")
    return text


async def add(session: AsyncSession, *, actor: Actor, service: str, text: str, source: str = "") -> NoteView:
    note = OperatorNote(
        team_id=actor.team_id,
        service=names.service(service),
        text=check_text(text),
        author_id=actor.user_id,
        source=source,
        created_at=utcnow(),
    )
    session.add(note)
    await session.flush()
    await audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        kind=AuditKind.MEMORY_ADDED,
        detail={"note_id": note.id, "service": note.service, "text": note.text, "source": source},
    )
    return _view(note)


async def delete(session: AsyncSession, *, actor: Actor, policy: Policy, note_id: int) -> NoteView:
    """Its author or an admin may delete a note; the audit event keeps what it said."""
    note = await session.scalar(
        select(OperatorNote).where(OperatorNote.team_id == actor.team_id, OperatorNote.id == note_id)
    )
    if note is None:
        raise NotFound(f"There is no note #{note_id} in this workspace.")
    if note.author_id != actor.user_id and not policy.is_admin(actor.user_id):
        raise PolicyDenied(f"Only <@{note.author_id}>, who wrote note #{note_id}, or an admin can delete it.")
    view = _view(note)
    await session.delete(note)
    await audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        kind=AuditKind.MEMORY_DELETED,
        detail={"note_id": note_id, "service": view.service, "text": view.text},
    )
    return view


async def listing(
    session: AsyncSession, *, team_id: str, service: str | None = None, page: int = 0, size: int = PAGE_SIZE
) -> Page[NoteView]:
    """Newest first, of one service or all."""
    query = _of_team(team_id)
    if service is not None:
        query = query.where(OperatorNote.service == names.service(service))
    return (await paging.fetch(session, query, page=page, size=size)).map(_view)


async def search(
    session: AsyncSession, *, team_id: str, text: str, page: int = 0, size: int = PAGE_SIZE
) -> Page[NoteView]:
    """Notes whose text or service holds `text` (any case), newest first."""
    wanted = " ".join(text.split()).lower()
    if len(wanted) < MIN_QUERY_LENGTH:
        raise UserError(f"Search for at least {MIN_QUERY_LENGTH} characters.")
    matches = func.lower(OperatorNote.text).contains(wanted, autoescape=True) | OperatorNote.service.contains(
        wanted, autoescape=True
    )
    found = await paging.fetch(session, _of_team(team_id).where(matches), page=page, size=size)
    return found.map(_view)


async def for_service(session: AsyncSession, *, team_id: str, service: str) -> list[NoteView]:
    """The newest notes on a service, as its plan cards show them."""
    query = _of_team(team_id).where(OperatorNote.service == service.lower()).limit(CARD_NOTES)
    return [_view(note) for note in (await session.scalars(query)).all()]


async def about(
    session: AsyncSession, *, team_id: str, services: Collection[str], limit: int
) -> list[NoteView]:
    """The newest notes on any of `services`, at most `limit`."""
    query = _of_team(team_id).where(OperatorNote.service.in_(sorted(services))).limit(limit)
    return [_view(note) for note in (await session.scalars(query)).all()]


async def services_noted(session: AsyncSession, *, team_id: str, limit: int) -> dict[str, int]:
    """The services a workspace has notes on, with how many each, at most `limit` (most noted first)."""
    count = func.count(OperatorNote.id)
    rows = await session.execute(
        select(OperatorNote.service, count)
        .where(OperatorNote.team_id == team_id)
        .group_by(OperatorNote.service)
        .order_by(count.desc(), OperatorNote.service)
        .limit(limit)
    )
    return {service: int(n) for service, n in rows.all()}


def _of_team(team_id: str) -> Select[tuple[OperatorNote]]:
    return select(OperatorNote).where(OperatorNote.team_id == team_id).order_by(OperatorNote.id.desc())


def _view(note: OperatorNote) -> NoteView:
    return NoteView(
        id=note.id,
        service=note.service,
        text=note.text,
        author_id=note.author_id,
        created_at=note.created_at,
        source=note.source,
    )
