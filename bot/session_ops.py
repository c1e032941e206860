"""What a person does to a change session, end to end: each change in one transaction, then the
session as it now stands (and, once it ends, its timeline). Entry points for listeners and tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot import change_sessions, session_timeline
from bot.change_sessions import RosterChange
from bot.domain import Actor, SessionRole, SessionView, TimelineEntry
from bot.errors import NotFound
from bot.operations import Runtime

COMMAND = "/carapulse"


@dataclass(frozen=True)
class EndedSession:
    view: SessionView
    timeline: list[TimelineEntry]


async def start(
    runtime: Runtime,
    *,
    actor: Actor,
    name: str,
    channel_id: str,
    thread_ts: str | None,
    members: Mapping[str, SessionRole] | None = None,
) -> SessionView:
    async with runtime.sessions.begin() as session:
        row = await change_sessions.start(
            session, actor=actor, name=name, channel_id=channel_id, thread_ts=thread_ts, members=members
        )
        return await change_sessions.view(session, row=row)


async def here(runtime: Runtime, *, actor: Actor, channel_id: str, thread_ts: str | None) -> SessionView:
    """The session open where the command was typed; NotFound, saying how to start one, if none."""
    async with runtime.sessions() as session:
        row = await change_sessions.containing(
            session, team_id=actor.team_id, channel_id=channel_id, thread_ts=thread_ts
        )
        if row is None:
            threads = await change_sessions.open_threads(
                session, team_id=actor.team_id, channel_id=channel_id
            )
            in_threads = (
                f" {threads} thread{'s' if threads != 1 else ''} here ha{'ve' if threads != 1 else 's'} "
                "a session of its own: use the buttons on its message there."
                if threads
                else ""
            )
            raise NotFound(
                "No change session is open here. Start one with "
                f"`{COMMAND} session start <name>` (or the message shortcut, for a thread).{in_threads}"
            )
        return await change_sessions.view(session, row=row)


async def load(runtime: Runtime, *, actor: Actor, session_id: int) -> SessionView:
    async with runtime.sessions() as session:
        row = await change_sessions.get(session, team_id=actor.team_id, session_id=session_id)
        return await change_sessions.view(session, row=row)


async def editable(runtime: Runtime, *, actor: Actor, session_id: int) -> SessionView:
    """The open session whose members `actor` (a lead or an admin) is about to set."""
    async with runtime.sessions() as session:
        row = await change_sessions.for_change(
            session, actor, runtime.policy, session_id, doing="change its members"
        )
        return await change_sessions.view(session, row=row)


async def set_members(
    runtime: Runtime, *, actor: Actor, session_id: int, members: Mapping[str, SessionRole]
) -> tuple[SessionView, RosterChange]:
    async with runtime.sessions.begin() as session:
        change = await change_sessions.set_members(
            session, actor=actor, policy=runtime.policy, session_id=session_id, members=members
        )
        row = await change_sessions.get(session, team_id=actor.team_id, session_id=session_id)
        return await change_sessions.view(session, row=row), change


async def end(runtime: Runtime, *, actor: Actor, session_id: int) -> EndedSession:
    async with runtime.sessions.begin() as session:
        row = await change_sessions.end(session, actor=actor, policy=runtime.policy, session_id=session_id)
        return EndedSession(
            view=await change_sessions.view(session, row=row),
            timeline=await session_timeline.entries(session, row=row),
        )
