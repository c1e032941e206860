"""Bolt listeners: parse the payload, ack at once, hand the work to a `bot` service, render with `blocks`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from actions import commands, errors, home, memory, modals, plan_buttons, playbooks, runbooks, schedules
from bot.operations import Runtime


def register(app: AsyncApp, *, runtime: Runtime) -> None:
    errors.register(app)
    delegated = {
        "memory": memory.prepare,
        "runbook": runbooks.prepare,
        "playbook": playbooks.prepare,
        "schedule": schedules.prepare,
    }
    commands.register(app, runtime=runtime, delegated=delegated)
    plan_buttons.register(app, runtime=runtime)
    modals.register(app, runtime=runtime)
    modals.register_workflow_form(app, runtime=runtime)
    memory.register(app, runtime=runtime)
    runbooks.register(app, runtime=runtime)
    playbooks.register(app, runtime=runtime)
    schedules.register(app, runtime=runtime)
    home.register(app, runtime=runtime)
