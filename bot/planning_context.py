"""What a model planner may read beside the request: operator memory, matching runbooks, recent
diagnostics, the thread it was asked in. Features plug in as providers; with none, a model plans
from the request alone.

Everything here is data to the model, never instructions: each item is redacted and fenced before
it is sent (bot/llm/fencing.py), whoever wrote it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

# Items past this many are left out of one request, the earliest providers' first kept.
MAX_ITEMS = 40


@dataclass(frozen=True)
class ContextItem:
    """One piece of text a model may read as data. `source` says where it came from, as the model and
    the audit log see it: `runbook db-failover`, `memory`, `alert labels`, `thread message by <@U…>`."""

    source: str
    text: str


@dataclass(frozen=True)
class ContextQuery:
    """What the context is for: the request's words, its workspace and environment, and the
    channel it was asked in (empty when it came from no channel)."""

    team_id: str
    environment: str
    text: str
    channel_id: str = ""


class PlanningContextProvider(Protocol):
    """A source of context (memory, runbooks, incidents). `gather` returns at most `limit` items,
    the most relevant first, filtered to the query's team; it may read its own store."""

    async def gather(self, query: ContextQuery, *, limit: int) -> Sequence[ContextItem]: ...


async def gather(
    providers: Sequence[PlanningContextProvider], query: ContextQuery, *, limit: int = MAX_ITEMS
) -> list[ContextItem]:
    """Every provider's items in provider order, at most `limit` in all."""
    items: list[ContextItem] = []
    for provider in providers:
        if len(items) >= limit:
            break
        items.extend((await provider.gather(query, limit=limit - len(items)))[: limit - len(items)])
    return items
