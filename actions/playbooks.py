"""Playbooks in Slack: `/carapulse playbook list|start <name> [name=value …]|new|edit <name>`, the
list's Start/New/paging buttons, the modal that defines a playbook and the form that starts one.
A start plans like any request (bot/requests.py): policy and approval apply."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp

from actions import fields, forms, payloads, surfaces
from actions.commands import COMMAND, Invocation, Work
from actions.fields import FieldError
from blocks import ids
from blocks.forms import pager_clicks
from blocks.library import playbook_list_blocks, playbook_modal, playbook_start_modal
from bot import names, playbooks, requests
from bot.errors import UserError
from bot.operations import Runtime
from bot.playbooks import PlaybookSpec

USAGE = (
    f"Use `{COMMAND} playbook list`, `playbook start <name> [name=value …]`, `playbook new` "
    "or `playbook edit <name>`."
)
_PAGE_BUTTONS = pager_clicks(ids.PLAYBOOK_PAGE)


def prepare(runtime: Runtime, argument: str) -> tuple[Work, bool]:
    verb, _, rest = argument.strip().partition(" ")
    verb, rest = verb.lower(), rest.strip()
    name, _, pairs = rest.partition(" ")
    if verb in ("", "list"):
        return partial(_list, page=0), False
    if verb == "new":
        return _open_definition, True
    if verb == "edit" and name:
        return partial(_open_definition, name=names.playbook(name)), True
    if verb == "start" and name:
        if not pairs.strip():
            # The playbook's inputs decide between planning now and asking in a form.
            return partial(_start_or_ask, name=names.playbook(name)), True
        understood = requests.understand(runtime, f"{requests.PLAYBOOK_START}{rest}")
        return partial(_plan, understood=understood, intent=f"playbook start {rest}"), False
    raise UserError(USAGE)


def register(app: AsyncApp, *, runtime: Runtime) -> None:
    @app.action(ids.PLAYBOOK_START)
    @app.action(ids.PLAYBOOK_NEW)
    @app.action(ids.PLAYBOOK_EDIT)
    @app.action(_PAGE_BUTTONS)
    async def handle_playbook_button(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        await ack()
        invocation = Invocation(runtime, payloads.interaction_actor(body), body, respond, client)
        # Not queued: most of these open a modal, and a click's trigger_id lasts 3 seconds.
        runtime.supervisor.spawn(
            surfaces.run(_clicked, invocation, doing="working on the playbook"), name="playbook"
        )

    forms.register(
        app, runtime, ids.PLAYBOOK_MODAL, read=_read_definition, act=_save, doing="saving the playbook"
    )
    forms.register(
        app, runtime, ids.PLAYBOOK_START_MODAL, read=_read_start, act=_start, doing="planning the playbook"
    )


async def _clicked(invocation: Invocation) -> None:
    action_id, value = payloads.clicked(invocation.body)
    if action_id == ids.PLAYBOOK_START:
        await _start_or_ask(invocation, name=names.playbook(value))
    elif action_id == ids.PLAYBOOK_EDIT:
        await _open_definition(invocation, name=names.playbook(value))
    elif action_id == ids.PLAYBOOK_NEW:
        await _open_definition(invocation)
    else:
        await _list(invocation, page=payloads.clicked_page(invocation.body)["page"], replace=True)


async def _list(invocation: Invocation, *, page: int, replace: bool = False) -> None:
    async with invocation.runtime.sessions() as session:
        found = await playbooks.listing(session, team_id=invocation.actor.team_id, page=page)
    blocks = playbook_list_blocks(found.items, number=found.number, has_more=found.has_more)
    await invocation.respond(
        response_type="ephemeral", text="Playbooks", blocks=blocks, replace_original=replace
    )


async def _open_definition(invocation: Invocation, *, name: str | None = None) -> None:
    playbook = None
    if name is not None:
        async with invocation.runtime.sessions() as session:
            playbook = await playbooks.by_name(session, team_id=invocation.actor.team_id, name=name)
        if playbook.source:
            raise UserError(f"Playbook {playbook.name} comes from `{playbook.source}`; change it there.")
    view = playbook_modal(playbook, channel_id=surfaces.channel_of(invocation.body))
    await invocation.client.views_open(trigger_id=invocation.body["trigger_id"], view=view)


async def _start_or_ask(invocation: Invocation, *, name: str) -> None:
    """Plan at once when every input has a default and the card has a channel; otherwise open the
    form that asks for them."""
    async with invocation.runtime.sessions() as session:
        playbook = await playbooks.by_name(session, team_id=invocation.actor.team_id, name=name)
    channel_id = surfaces.channel_of(invocation.body)
    if not channel_id or any(default is None for default in playbook.inputs.values()):
        view = playbook_start_modal(playbook, channel_id=channel_id)
        await invocation.client.views_open(trigger_id=invocation.body["trigger_id"], view=view)
        return
    understood = requests.PlaybookStart(name=playbook.name, typed={})
    await _plan(invocation, understood=understood, intent=f"playbook start {playbook.name}")


async def _plan(invocation: Invocation, *, understood: requests.Understood, intent: str) -> None:
    body = invocation.body
    await requests.plan(
        invocation.runtime,
        requester=invocation.actor,
        channel_id=surfaces.channel_of(body),
        thread_ts=body.get("thread_ts") or None,
        understood=understood,
        intent=intent,
        source_key=body["trigger_id"],
    )


def _read_definition(view: dict[str, Any]) -> tuple[str, PlaybookSpec]:
    name = fields.checked(view, ids.PLAYBOOK_NAME_BLOCK, names.playbook)
    return name, fields.checked(view, ids.PLAYBOOK_DEFINITION_BLOCK, playbooks.parse_definition)


async def _save(submission: forms.Submission, definition: tuple[str, PlaybookSpec]) -> None:
    (name, spec), runtime, actor = definition, submission.runtime, submission.actor
    async with runtime.sessions.begin() as session:
        saved = await playbooks.save(
            session, actor=actor, name=name, spec=spec, playbook_id=submission.context.get("playbook_id")
        )
    await submission.say(
        f"Saved playbook {saved.name} ({saved.version}): `{COMMAND} playbook start {saved.name}`."
    )
    surfaces.home_changed(runtime, actor.team_id)


def _read_start(view: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """Where the card goes and the inputs typed; each required input left empty is refused."""
    context = fields.metadata(view)
    declared: dict[str, str | None] = context.get("inputs") or {}
    typed = {name: fields.text(view, name).strip() for name in declared}
    errors = {name: "required" for name, default in declared.items() if default is None and not typed[name]}
    try:
        channel_id = fields.channel(view, context)
    except FieldError as exc:
        errors |= exc.errors
    if errors:
        raise FieldError(errors)
    return channel_id, {name: value for name, value in typed.items() if value}


async def _start(submission: forms.Submission, start: tuple[str, dict[str, str]]) -> None:
    channel_id, typed = start
    name = str(submission.context.get("playbook", ""))
    await requests.plan(
        submission.runtime,
        requester=submission.actor,
        channel_id=channel_id,
        thread_ts=None,
        understood=requests.PlaybookStart(name=name, typed=typed),
        intent=f"playbook start {name} (form)",
        source_key=f"view:{submission.view_id}",
    )
