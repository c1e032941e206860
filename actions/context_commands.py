"""`/carapulse context …`: a service's context (with a picture of its neighbourhood), what changed
around it, and a refresh of the graph."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from blocks.context import context_diff_blocks, service_context_blocks
from bot import moments
from bot.clock import utcnow
from bot.context import operations
from bot.errors import UserError
from bot.operations import Runtime

if TYPE_CHECKING:
    from actions.commands import Invocation, Work

USAGE = (
    "Use `/carapulse context <service>`, `/carapulse context diff <service> [since]` "
    "or `/carapulse context refresh`."
)


def prepare(runtime: Runtime, argument: str) -> tuple[Work, bool]:
    """Read the subcommand's words (raises UserError inside the ack); the work to do after it, which
    opens no modal."""
    words = argument.split()
    if not words:
        raise UserError(USAGE)
    if words == ["refresh"]:
        return _refresh, False
    if words[0] == "diff":
        if len(words) not in (2, 3):
            raise UserError(USAGE)
        since = moments.moment(words[2], now=utcnow()) if len(words) == 3 else None
        return partial(_diff, name=words[1], since=since), False
    if len(words) != 1:
        raise UserError(f"Name one service. {USAGE}")
    return partial(_show, name=words[0]), False


async def _show(invocation: Invocation, *, name: str) -> None:
    runtime, actor = invocation.runtime, invocation.actor
    view = await operations.show(runtime, actor=actor, name=name)
    await invocation.respond(
        response_type="ephemeral", text=f"Context of {view.name}", blocks=service_context_blocks(view)
    )
    thread_ts = invocation.body.get("thread_ts") or None
    channel_id = invocation.body.get("channel_id") if thread_ts else None
    await operations.send_picture(
        runtime, actor=actor, name=view.name, channel_id=channel_id, thread_ts=thread_ts
    )


async def _diff(invocation: Invocation, *, name: str, since: datetime | None) -> None:
    diff = await operations.diff(invocation.runtime, actor=invocation.actor, name=name, since=since)
    await invocation.respond(
        response_type="ephemeral",
        text=f"What changed around {diff.service}",
        blocks=context_diff_blocks(diff),
    )


async def _refresh(invocation: Invocation) -> None:
    refreshed = await operations.refresh(invocation.runtime, actor=invocation.actor)
    snapshot = refreshed.snapshot
    what = "a new snapshot" if refreshed.changed else "nothing changed since the last snapshot"
    text = (
        f"Context graph collected: {snapshot.node_count} nodes, {snapshot.edge_count} edges; {what}.\n"
        + "\n".join(f"• {note}" for note in snapshot.notes)
    )
    await invocation.respond(response_type="ephemeral", text=text)
