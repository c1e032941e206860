"""What people ask of the context graph, end to end (read, refresh, diff, the picture); entry points
for the Slack listeners and tests, like bot.operations."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from bot.context import picture, views
from bot.context.collector import Refreshed
from bot.domain import Actor, ContextDiff, ServiceContext
from bot.operations import Runtime
from bot.slack_files import LocalFile


async def show(runtime: Runtime, *, actor: Actor, name: str) -> ServiceContext:
    async with runtime.sessions() as session:
        return await views.describe(session, team_id=actor.team_id, name=name)


async def send_picture(
    runtime: Runtime, *, actor: Actor, name: str, channel_id: str | None, thread_ts: str | None
) -> None:
    """Draw the service's neighbourhood and share it in the thread (when asked in one) or in the
    requester's direct messages (a slash command's answer is ephemeral; a file cannot be)."""
    async with runtime.sessions() as session:
        centre, edges, nodes = await views.neighbourhood(session, team_id=actor.team_id, name=name)
    png = await picture.neighbourhood_png(centre, edges, nodes)
    if channel_id is None or thread_ts is None:
        channel_id, thread_ts = (
            await runtime.files.direct_channel(team_id=actor.team_id, user_id=actor.user_id),
            None,
        )
    with tempfile.TemporaryDirectory(prefix="carapulse-context-") as directory:
        path = Path(directory) / f"context-{centre.name}.png"
        path.write_bytes(png)
        file = LocalFile(path, path.name, f"Context of {centre.name}")
        await runtime.files.share([file], team_id=actor.team_id, channel_id=channel_id, thread_ts=thread_ts)


async def refresh(runtime: Runtime, *, actor: Actor) -> Refreshed:
    [refreshed] = await runtime.context.refresh(team_ids=[actor.team_id])
    return refreshed


async def diff(runtime: Runtime, *, actor: Actor, name: str, since: datetime | None) -> ContextDiff:
    async with runtime.sessions() as session:
        return await views.diff(session, team_id=actor.team_id, name=name, since=since)
