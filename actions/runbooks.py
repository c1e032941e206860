"""Runbooks in Slack: `/carapulse runbook <service>` shows a service's runbooks, `runbook new
[service]` and the New/Edit buttons open the modal, and its submission stores the runbook (a wrong
field is refused beside it)."""

from __future__ import annotations

from functools import partial
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncApp

from actions import fields, forms, payloads, surfaces
from actions.commands import COMMAND, Invocation, Work
from actions.fields import FieldError
from blocks import ids
from blocks.library import runbook_blocks, runbook_modal
from bot import names, runbooks
from bot.errors import CarapulseError, UserError
from bot.operations import Runtime
from bot.runbooks import RunbookDraft
from bot.workflows.forms import InvalidInputs, parse_pairs

USAGE = f"Use `{COMMAND} runbook <service>`, `runbook new [service]` or `runbook edit <runbook id>`."
# Which field of the modal each of the draft's fields is typed in.
_BLOCKS = {
    "service": ids.RUNBOOK_SERVICE_BLOCK,
    "title": ids.RUNBOOK_TITLE_BLOCK,
    "body": ids.RUNBOOK_BODY_BLOCK,
    "workflow": ids.RUNBOOK_WORKFLOW_BLOCK,
    "inputs": ids.RUNBOOK_INPUTS_BLOCK,
    "alertnames": ids.RUNBOOK_ALERTS_BLOCK,
}


def prepare(runtime: Runtime, argument: str) -> tuple[Work, bool]:
    words = argument.split()
    if not words:
        raise UserError(USAGE)
    if words[0].lower() == "new":
        service = names.service(words[1]) if len(words) > 1 else ""
        return partial(_open_modal, service=service), True
    if words[0].lower() == "edit":
        return partial(_open_modal, runbook_id=_runbook_id(words[1:])), True
    if len(words) > 1:
        raise UserError(USAGE)
    return partial(_show, service=names.service(words[0])), False


def register(app: AsyncApp, *, runtime: Runtime) -> None:
    @app.action(ids.RUNBOOK_NEW)
    @app.action(ids.RUNBOOK_EDIT)
    async def handle_runbook_button(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        await ack()
        invocation = Invocation(runtime, payloads.interaction_actor(body), body, respond, client)
        runtime.supervisor.spawn(
            surfaces.run(_clicked, invocation, doing="opening the runbook"), name="runbook"
        )

    forms.register(
        app, runtime, ids.RUNBOOK_MODAL, read=partial(_draft, runtime), act=_save, doing="saving the runbook"
    )


async def _clicked(invocation: Invocation) -> None:
    action_id, value = payloads.clicked(invocation.body)
    if action_id == ids.RUNBOOK_EDIT:
        await _open_modal(invocation, runbook_id=payloads.positive_id(value, "a runbook"))
    else:
        await _open_modal(invocation, service=value)


async def _show(invocation: Invocation, *, service: str) -> None:
    async with invocation.runtime.sessions() as session:
        found = await runbooks.for_service(session, team_id=invocation.actor.team_id, service=service)
    blocks = runbook_blocks(found.items, service=service, has_more=found.has_more)
    await invocation.respond(response_type="ephemeral", text=f"Runbooks of {service}", blocks=blocks)


async def _open_modal(invocation: Invocation, *, service: str = "", runbook_id: int | None = None) -> None:
    runbook = None
    if runbook_id is not None:
        async with invocation.runtime.sessions() as session:
            runbook = await runbooks.get(session, team_id=invocation.actor.team_id, runbook_id=runbook_id)
        if runbook.source:
            raise UserError(f"Runbook {runbook.id} comes from `{runbook.source}`; change it there.")
    view = runbook_modal(runbook, service=service, channel_id=surfaces.channel_of(invocation.body))
    await invocation.client.views_open(trigger_id=invocation.body["trigger_id"], view=view)


async def _save(submission: forms.Submission, draft: RunbookDraft) -> None:
    runtime, actor = submission.runtime, submission.actor
    async with runtime.sessions.begin() as session:
        saved = await runbooks.save(
            session,
            actor=actor,
            draft=draft,
            catalog=runtime.workflows,
            runbook_id=submission.context.get("runbook_id"),
        )
    await submission.say(f"Saved runbook {saved.id}, “{saved.title}” of {saved.service} ({saved.version}).")
    surfaces.home_changed(runtime, actor.team_id)


def _draft(runtime: Runtime, view: dict[str, Any]) -> RunbookDraft:
    """The draft the modal describes, checked as far as needs no I/O; FieldError names the field."""
    workflow = fields.text(view, ids.RUNBOOK_WORKFLOW_BLOCK).strip() or None
    raw = {
        "service": fields.text(view, ids.RUNBOOK_SERVICE_BLOCK),
        "title": fields.text(view, ids.RUNBOOK_TITLE_BLOCK),
        "body": fields.text(view, ids.RUNBOOK_BODY_BLOCK),
        "workflow": workflow,
        "inputs": fields.checked(view, ids.RUNBOOK_INPUTS_BLOCK, parse_pairs),
        "alertnames": fields.text(view, ids.RUNBOOK_ALERTS_BLOCK).replace(",", " ").split(),
    }
    try:
        draft = RunbookDraft.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "body"
        message = error["msg"].removeprefix("Value error, ")
        raise FieldError.at(_BLOCKS.get(name, ids.RUNBOOK_BODY_BLOCK), message) from None
    except UserError as exc:
        raise FieldError.at(ids.RUNBOOK_SERVICE_BLOCK, exc.message) from None
    try:
        draft.check_workflow(runtime.workflows)
    except InvalidInputs as exc:
        raise FieldError.at(ids.RUNBOOK_INPUTS_BLOCK, exc.message) from None
    except CarapulseError as exc:
        raise FieldError.at(ids.RUNBOOK_WORKFLOW_BLOCK, exc.message) from None
    return draft


def _runbook_id(words: list[str]) -> int:
    text = words[0].strip().lstrip("#") if words else ""
    if not text.isdigit() or int(text) <= 0:
        raise UserError(f"`{COMMAND} runbook edit` needs a runbook id, a number like 3.")
    return int(text)
