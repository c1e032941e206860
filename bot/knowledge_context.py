"""Operator notes and runbooks about the services a request names, as context for a model planner
(bot/planning_context.py). A service counts as named when one of the request's words is its name."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot import memory, runbooks
from bot.db.engine import SessionFactory
from bot.planning_context import ContextItem, ContextQuery

# Words of a request looked up as service names; a longer request is cut to its first ones.
MAX_WORDS = 60
# A runbook's steps beyond this are left out of one request.
MAX_RUNBOOK_CHARS = 2000

_WORD = re.compile(r"[a-z0-9][a-z0-9-]*")


class KnowledgeContext:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def gather(self, query: ContextQuery, *, limit: int) -> Sequence[ContextItem]:
        services = set(_WORD.findall(query.text.lower())[:MAX_WORDS])
        if not services or limit <= 0:
            return []
        async with self._sessions() as session:
            notes = await memory.about(session, team_id=query.team_id, services=services, limit=limit)
            books = await runbooks.about(
                session, team_id=query.team_id, services=services, limit=limit - len(notes)
            )
        items = [
            ContextItem(source=f"operator note on {note.service} by <@{note.author_id}>", text=note.text)
            for note in notes
        ]
        items += [
            ContextItem(
                source=f"runbook #{book.id} {book.title} ({book.service})",
                text=book.body[:MAX_RUNBOOK_CHARS],
            )
            for book in books
        ]
        return items
