"""Collecting the context graph: once from the tools for every workspace, then per workspace with
its mapping and operator memory, stored as that workspace's newest snapshot.

Periodically (`run_forever`, started with the worker) one replica collects: it holds the database
lease `context-collector` and renews it each round, so several `carapulse serve` processes do not
all ask the tools; if it dies, another takes over once the lease has expired. People can ask for a
collection of their workspace at any time (`/carapulse context refresh`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot import audit
from bot.context import collect, store
from bot.context.graph import Graph
from bot.context.mapping import Mapping
from bot.context.memory import ContextMemory, NoMemory
from bot.context.sources import SourceSettings
from bot.db.engine import SessionFactory
from bot.db.models import ContextSnapshot
from tools.common.registry import Registry

log = logging.getLogger(__name__)

LEASE = "context-collector"


@dataclass(frozen=True)
class Refreshed:
    team_id: str
    snapshot: ContextSnapshot
    changed: bool


class ContextCollector:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        registry: Registry,
        settings: SourceSettings,
        mapping: Mapping | None = None,
        memory: ContextMemory | None = None,
        keep: timedelta = timedelta(days=30),
        interval: float = 900.0,
        owner: str | None = None,
    ) -> None:
        self.sessions = sessions
        self.registry = registry
        self.settings = settings
        self.mapping = mapping or Mapping()
        self.memory: ContextMemory = memory or NoMemory()
        self.keep = keep
        self.interval = interval
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"

    async def refresh(self, *, team_ids: Sequence[str]) -> list[Refreshed]:
        """Ask the tools once, then store a snapshot for each workspace (unchanged ones only move
        their `checked_at`) and prune its old snapshots. No workspace, no questions to the tools."""
        if not team_ids:
            return []
        collected = await collect.collect(self.registry, self.settings)
        refreshed = []
        for team_id in team_ids:
            fragments = [self.mapping.fragment(), await self.memory.context_fragment(team_id=team_id)]
            graph = Graph.merge([*fragments, *collected.fragments])
            async with self.sessions.begin() as session:
                snapshot, changed = await store.save(
                    session, team_id=team_id, graph=graph, notes=collected.notes
                )
                await store.prune(session, team_id=team_id, keep=self.keep)
            refreshed.append(Refreshed(team_id, snapshot, changed))
        return refreshed

    async def run_forever(self) -> None:
        """Every `interval` seconds, if this replica holds the lease, refresh every workspace that
        uses Carapulse (it has an audit log or a graph already)."""
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("context: the collection failed; trying again in %.0fs", self.interval)
            await asyncio.sleep(self.interval)

    async def run_once(self) -> bool:
        """One round; False when another replica holds the lease."""
        async with self.sessions.begin() as session:
            held = await store.take_lease(session, name=LEASE, owner=self.owner, seconds=self.interval * 2)
        if not held:
            return False
        teams = [team async for team in self._teams()]
        for refreshed in await self.refresh(team_ids=teams):
            if refreshed.changed:
                log.info("context: new snapshot for %s", refreshed.team_id)
        return True

    async def _teams(self) -> AsyncIterator[str]:
        seen: set[str] = set()
        for lister in (audit.teams, store.teams):
            after = ""
            while True:
                async with self.sessions() as session:
                    page = await lister(session, after=after)
                for team_id in page:
                    if team_id not in seen:
                        seen.add(team_id)
                        yield team_id
                if not page:
                    break
                after = page[-1]
