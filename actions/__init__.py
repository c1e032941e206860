"""Bolt listeners: parse the payload, ack at once, hand the work to a `bot` service, render with `blocks`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from actions import (
    audit_commands,
    commands,
    confirmations,
    context_commands,
    errors,
    home,
    incident_buttons,
    memory,
    mentions,
    modals,
    plan_buttons,
    plan_edits,
    playbooks,
    runbooks,
    schedules,
    session_forms,
    sessions,
)
from bot.incident_desk import IncidentDesk
from bot.operations import Runtime


def register(app: AsyncApp, *, runtime: Runtime, incidents: IncidentDesk | None = None) -> None:
    errors.register(app)
    delegated = {
        "memory": memory.prepare,
        "runbook": runbooks.prepare,
        "playbook": playbooks.prepare,
        "schedule": schedules.prepare,
        "audit": audit_commands.prepare,
        "context": context_commands.prepare,
        "session": sessions.prepare,
    }
    commands.register(app, runtime=runtime, incidents=incidents, delegated=delegated)
    if incidents is not None:
        incident_buttons.register(app, desk=incidents)
    plan_buttons.register(app, runtime=runtime)
    modals.register(app, runtime=runtime)
    modals.register_workflow_form(app, runtime=runtime)
    plan_edits.register(app, runtime=runtime)
    confirmations.register(app, runtime=runtime)
    mentions.register(app, runtime=runtime)
    memory.register(app, runtime=runtime)
    runbooks.register(app, runtime=runtime)
    playbooks.register(app, runtime=runtime)
    schedules.register(app, runtime=runtime)
    home.register(app, runtime=runtime)
    audit_commands.register(app, runtime=runtime)
    session_forms.register(app, runtime=runtime)
