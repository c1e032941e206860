"""Bolt listeners: parse the payload, ack at once, hand the work to a `bot` service, render with `blocks`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from actions import audit_commands, commands, errors, modals, plan_buttons
from bot.operations import Runtime


def register(app: AsyncApp, *, runtime: Runtime) -> None:
    errors.register(app)
    commands.register(app, runtime=runtime)
    plan_buttons.register(app, runtime=runtime)
    modals.register(app, runtime=runtime)
    modals.register_workflow_form(app, runtime=runtime)
    audit_commands.register(app, runtime=runtime)
