"""Bolt listeners: parse the payload, ack at once, hand the work to a `bot` service, render with `blocks`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from actions import (
    commands,
    confirmations,
    errors,
    incident_buttons,
    mentions,
    modals,
    plan_buttons,
    plan_edits,
)
from bot.incident_desk import IncidentDesk
from bot.operations import Runtime


def register(app: AsyncApp, *, runtime: Runtime, incidents: IncidentDesk | None = None) -> None:
    errors.register(app)
    commands.register(app, runtime=runtime, incidents=incidents)
    if incidents is not None:
        incident_buttons.register(app, desk=incidents)
    plan_buttons.register(app, runtime=runtime)
    modals.register(app, runtime=runtime)
    modals.register_workflow_form(app, runtime=runtime)
    plan_edits.register(app, runtime=runtime)
    confirmations.register(app, runtime=runtime)
    mentions.register(app, runtime=runtime)
