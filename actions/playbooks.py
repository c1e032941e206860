"""Playbooks in Slack: `/carapulse playbook list|start <name> [name=value …]|new|edit <name>`, the
list's Start/New/paging buttons, the modal that defines a playbook and the form that starts one.
A start plans like any request (bot/requests.py): policy and approval apply."""

from __future__ import annotations

import json
import re
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp

from actions import fields, payloads, surfaces
from actions.commands import COMMAND, Invocation, Work
from actions.errors import reported
from actions.fields import FieldError
from blocks import ids
from blocks.library import playbook_list_blocks, playbook_modal, playbook_start_modal
from bot import names, playbooks, requests
from bot.domain import Actor
from bot.errors import UserError
from bot.operations import Runtime
from bot.playbooks import PlaybookSpec

USAGE = (
    f"Use `{COMMAND} playbook list`, `playbook start <name> [name=value …]`, `playbook new` "
    "or `playbook edit <name>`."
)
_PAGE_BUTTONS = re.compile(rf"^{ids.PLAYBOOK_PAGE}_(previous|next)$")


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
        action = body["actions"][0]
        value = action.get("value", "")
        invocation = Invocation(runtime, payloads.interaction_actor(body), body, respond, client)
        if action["action_id"] == ids.PLAYBOOK_START:
            work: Work = partial(_start_or_ask, name=value)
        elif action["action_id"] == ids.PLAYBOOK_EDIT:
            work = partial(_open_definition, name=value)
        elif action["action_id"] == ids.PLAYBOOK_NEW:
            work = _open_definition
        else:
            work = partial(_list, page=int(json.loads(value or "{}").get("page", 0)), replace=True)
        runtime.supervisor.spawn(
            surfaces.run(work, invocation, doing="working on the playbook"), name=action["action_id"]
        )

    @app.view(ids.PLAYBOOK_MODAL)
    async def handle_playbook_modal(ack: Any, body: dict[str, Any], client: Any) -> None:
        view = body["view"]
        try:
            name = fields.checked(view, ids.PLAYBOOK_NAME_BLOCK, names.playbook)
            spec = fields.checked(view, ids.PLAYBOOK_DEFINITION_BLOCK, playbooks.parse_definition)
        except FieldError as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        await ack()
        actor, context = payloads.interaction_actor(body), fields.metadata(view)
        say = surfaces.teller(runtime, client, actor, str(context.get("channel_id") or ""))
        save = partial(_save, runtime, actor, name, spec, context.get("playbook_id"), say)
        runtime.after_ack.submit(reported(save, say, doing="saving the playbook"), name="playbook-save")

    @app.view(ids.PLAYBOOK_START_MODAL)
    async def handle_playbook_start_modal(ack: Any, body: dict[str, Any], client: Any) -> None:
        view = body["view"]
        context = fields.metadata(view)
        declared: dict[str, str | None] = context.get("inputs") or {}
        typed = {name: fields.text(view, name).strip() for name in declared}
        errors = {
            name: "required" for name, default in declared.items() if default is None and not typed[name]
        }
        try:
            channel_id = fields.channel(view, context)
        except FieldError as exc:
            errors |= exc.errors
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        actor = payloads.interaction_actor(body)
        name = str(context.get("playbook", ""))
        understood = requests.PlaybookStart(name=name, typed={k: v for k, v in typed.items() if v})
        say = surfaces.teller(runtime, client, actor, channel_id)
        planning = partial(
            requests.plan,
            runtime,
            requester=actor,
            channel_id=channel_id,
            thread_ts=None,
            understood=understood,
            intent=f"playbook start {name} (form)",
            source_key=f"view:{view['id']}",
        )
        runtime.after_ack.submit(
            reported(planning, say, doing="planning the playbook"), name=f"playbook-{name}"
        )


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


async def _save(
    runtime: Runtime, actor: Actor, name: str, spec: PlaybookSpec, playbook_id: int | None, say: Any
) -> None:
    async with runtime.sessions.begin() as session:
        saved = await playbooks.save(session, actor=actor, name=name, spec=spec, playbook_id=playbook_id)
    await say(f"Saved playbook {saved.name} ({saved.version}): `{COMMAND} playbook start {saved.name}`.")
    surfaces.home_changed(runtime, actor.team_id)
