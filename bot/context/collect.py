"""Asks every tool-backed source for its part of the graph, through the tool registry as a step
would (the same argument checks, timeouts and redaction). A source whose tool is not configured is
skipped, and one whose tool fails is left out; each says so in a note kept with the snapshot."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.context.graph import Fragment
from bot.context.sources import SOURCES, Source, SourceSettings
from bot.steps import run_action
from tools.common.registry import Registry

log = logging.getLogger(__name__)


class SourceFailed(Exception):
    pass


@dataclass
class Collected:
    fragments: list[Fragment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


async def collect(
    registry: Registry, settings: SourceSettings, sources: Sequence[Source] = SOURCES
) -> Collected:
    collected = Collected()

    async def call(action: str, args: dict[str, Any]) -> dict[str, Any]:
        outcome = await run_action(registry, action, args)
        if not outcome.ok:
            raise SourceFailed(outcome.error)
        return outcome.data

    for source in sources:
        missing = [action for action in source.actions if action not in registry]
        if missing:
            collected.notes.append(f"{source.name}: skipped, the tool is not configured")
            continue
        try:
            fragment = source.build(await source.fetch(call, settings), settings)
        except SourceFailed as failure:
            log.warning("context: %s left out: %s", source.name, failure)
            collected.notes.append(f"{source.name}: left out, {failure}")
            continue
        collected.fragments.append(fragment)
        collected.notes.append(f"{source.name}: {len(fragment.nodes)} nodes, {len(fragment.edges)} edges")
    return collected
