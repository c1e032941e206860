"""Operator memory as a source of the context graph: the services people wrote notes about
(bot/memory.py), so a service only its operators know of still has a node, with its note count."""

from __future__ import annotations

from typing import Protocol

from bot import memory
from bot.context import graph
from bot.context.graph import Fragment
from bot.db.engine import SessionFactory

# Services with notes taken into one snapshot, the most noted first.
MAX_NOTED_SERVICES = 500


class ContextMemory(Protocol):
    async def context_fragment(self, *, team_id: str) -> Fragment:
        """The nodes (services with owner, environment, …) and edges (depends_on) a workspace's
        memory holds; its owners lose only to the mapping file's."""
        ...


class NoMemory:
    async def context_fragment(self, *, team_id: str) -> Fragment:
        return Fragment()


class OperatorNotes:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def context_fragment(self, *, team_id: str) -> Fragment:
        async with self._sessions() as session:
            noted = await memory.services_noted(session, team_id=team_id, limit=MAX_NOTED_SERVICES)
        return Fragment(nodes=[graph.service(name, attributes={"notes": n}) for name, n in noted.items()])
