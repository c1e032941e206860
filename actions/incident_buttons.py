"""The incident message's buttons: Acknowledge, Silence 1h, Investigate and Resolve, and Export on
the timeline; its link buttons (graph, dashboard, runbook) only need an ack."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from actions import payloads
from actions.errors import ephemeral_responder, reporting
from blocks import ids
from bot import incident_ops
from bot.domain import Actor
from bot.incident_desk import IncidentDesk

IncidentOperation = Callable[[IncidentDesk, Actor, int, dict[str, Any]], Awaitable[Any]]

# action_id → (what the user sees it doing if it fails, the operation it runs)
_BUTTONS: dict[str, tuple[str, IncidentOperation]] = {
    ids.INCIDENT_ACKNOWLEDGE: (
        "acknowledging the incident",
        lambda desk, actor, incident_id, body: incident_ops.acknowledge(
            desk, actor=actor, incident_id=incident_id
        ),
    ),
    ids.INCIDENT_SILENCE: (
        "planning the silence",
        lambda desk, actor, incident_id, body: incident_ops.silence(
            desk, actor=actor, incident_id=incident_id, source_key=body["trigger_id"]
        ),
    ),
    ids.INCIDENT_INVESTIGATE: (
        "reading the diagnostics",
        lambda desk, actor, incident_id, body: incident_ops.investigate(
            desk, actor=actor, incident_id=incident_id
        ),
    ),
    ids.INCIDENT_RESOLVE: (
        "resolving the incident",
        lambda desk, actor, incident_id, body: incident_ops.resolve(
            desk, actor=actor, incident_id=incident_id
        ),
    ),
    ids.INCIDENT_EXPORT: (
        "exporting the timeline",
        lambda desk, actor, incident_id, body: _export(desk, actor, incident_id, body),
    ),
}


def register(app: AsyncApp, *, desk: IncidentDesk) -> None:
    for action_id, (doing, operation) in _BUTTONS.items():
        app.action(action_id)(_button(desk, action_id, doing, operation))

    @app.action(re.compile(f"^{ids.INCIDENT_LINK_PREFIX}"))
    async def handle_incident_link(ack: Any) -> None:
        await ack()


def _button(
    desk: IncidentDesk, action_id: str, doing: str, operation: IncidentOperation
) -> Callable[..., Awaitable[None]]:
    async def handle_incident_button(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        desk.runtime.after_ack.submit(_run(desk, body, respond, doing, operation), name=action_id)

    return handle_incident_button


async def _run(
    desk: IncidentDesk, body: dict[str, Any], respond: Any, doing: str, operation: IncidentOperation
) -> None:
    async with reporting(ephemeral_responder(respond), doing=doing):
        actor = payloads.interaction_actor(body)
        await operation(desk, actor, payloads.incident_id_from_action(body), body)


async def _export(desk: IncidentDesk, actor: Actor, incident_id: int, body: dict[str, Any]) -> None:
    channel_id, thread_ts = payloads.clicked_thread(body)
    await incident_ops.export(
        desk, actor=actor, incident_id=incident_id, channel_id=channel_id, thread_ts=thread_ts
    )
