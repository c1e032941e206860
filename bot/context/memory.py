"""Operator memory as a source of the context graph: what people told Carapulse about services (who
owns checkout, that it depends on the ledger). The memory itself is built elsewhere; it plugs in here
by implementing `ContextMemory`, and until it does the graph asks `NoMemory`."""

from __future__ import annotations

from typing import Protocol

from bot.context.graph import Fragment


class ContextMemory(Protocol):
    async def context_fragment(self, *, team_id: str) -> Fragment:
        """The nodes (services with owner, environment, …) and edges (depends_on) a workspace's
        memory holds; its owners lose only to the mapping file's."""
        ...


class NoMemory:
    async def context_fragment(self, *, team_id: str) -> Fragment:
        return Fragment()
