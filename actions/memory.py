"""Operator memory in Slack: `/carapulse memory add|list|search|delete`, the message shortcut that
remembers a message, the add and search modals, and the paging buttons of a list."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp

from actions import fields, forms, payloads, surfaces
from actions.commands import COMMAND, Invocation, Work
from actions.errors import reporting
from blocks import ids
from blocks.forms import pager_clicks
from blocks.memory import memory_modal, memory_search_modal, note_line, note_list_blocks
from blocks.text import section
from bot import memory, names
from bot.domain import Actor, NoteView
from bot.errors import UserError
from bot.operations import Runtime

USAGE = (
    f"Use `{COMMAND} memory add <service> <note>`, `memory list [service]`, `memory search <text>` "
    "or `memory delete <note id>`."
)
_PAGE_BUTTONS = pager_clicks(ids.MEMORY_PAGE)


def prepare(runtime: Runtime, argument: str) -> tuple[Work, bool]:
    verb, _, rest = argument.strip().partition(" ")
    verb, rest = verb.lower(), rest.strip()
    if verb == "add":
        if not rest:
            return _open_add_modal, True
        service, _, text = rest.partition(" ")
        names.service(service)
        memory.check_text(text)
        return partial(_add, service=service, text=text), False
    if verb in ("", "list"):
        return partial(_page, key={"service": names.service(rest)} if rest else {}), False
    if verb == "search":
        return partial(_page, key={"query": rest}), False
    if verb == "delete":
        return partial(_delete, note_id=_note_id(rest)), False
    raise UserError(USAGE)


def register(app: AsyncApp, *, runtime: Runtime) -> None:
    @app.shortcut(ids.MEMORY_SHORTCUT)
    async def handle_memory_from_message(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        message, channel_id = body.get("message") or {}, (body.get("channel") or {}).get("id", "")
        view = memory_modal(
            text=" ".join((message.get("text") or "").split())[: memory.MAX_NOTE_LENGTH],
            channel_id=channel_id,
            source=f"message {channel_id}/{message.get('ts', '')}",
        )
        # Not queued behind other follow-up work: the trigger_id is good for 3 seconds only.
        runtime.supervisor.spawn(
            client.views_open(trigger_id=body["trigger_id"], view=view), name="memory-modal"
        )

    forms.register(
        app, runtime, ids.MEMORY_ADD_MODAL, read=_read_note, act=_add_from_form, doing="saving the note"
    )

    @app.view(ids.MEMORY_SEARCH_MODAL)
    async def handle_memory_search_modal(ack: Any, body: dict[str, Any], client: Any) -> None:
        view = body["view"]
        query = fields.text(view, ids.MEMORY_QUERY_BLOCK).strip()
        if len(query) < memory.MIN_QUERY_LENGTH:
            message = f"Search for at least {memory.MIN_QUERY_LENGTH} characters."
            await ack(response_action="errors", errors={ids.MEMORY_QUERY_BLOCK: message})
            return
        await ack(response_action="update", view=memory_search_modal([section("Searching…")], query))
        actor = payloads.interaction_actor(body)
        search = _search_into_modal(runtime, client, actor, view["id"], query)
        runtime.after_ack.submit(search, name="memory-search")

    @app.action(_PAGE_BUTTONS)
    async def handle_memory_page(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        invocation = Invocation(runtime, payloads.interaction_actor(body), body, respond, None)
        work = surfaces.run(_page_clicked, invocation, doing="reading the notes")
        runtime.after_ack.submit(work, name="memory-page")


async def _open_add_modal(invocation: Invocation) -> None:
    view = memory_modal(channel_id=invocation.body["channel_id"])
    await invocation.client.views_open(trigger_id=invocation.body["trigger_id"], view=view)


async def _add(invocation: Invocation, *, service: str, text: str) -> None:
    note = await _store(invocation.runtime, invocation.actor, service, text, "")
    await invocation.respond(response_type="ephemeral", text=f"Noted. {note_line(note)}")


async def _store(runtime: Runtime, actor: Actor, service: str, text: str, source: str) -> NoteView:
    async with runtime.sessions.begin() as session:
        note = await memory.add(session, actor=actor, service=service, text=text, source=source)
    surfaces.home_changed(runtime, actor.team_id)
    return note


def _read_note(view: dict[str, Any]) -> tuple[str, str]:
    service = fields.checked(view, ids.MEMORY_SERVICE_BLOCK, names.service)
    return service, fields.checked(view, ids.MEMORY_TEXT_BLOCK, memory.check_text)


async def _add_from_form(submission: forms.Submission, note: tuple[str, str]) -> None:
    service, text = note
    source = str(submission.context.get("source") or "")
    added = await _store(submission.runtime, submission.actor, service, text, source)
    await submission.say(f"Noted. {note_line(added)}")


async def _page_clicked(invocation: Invocation) -> None:
    await _page(invocation, key=payloads.clicked_page(invocation.body), replace=True)


async def _page(invocation: Invocation, *, key: dict[str, Any], replace: bool = False) -> None:
    page_number = int(key.get("page", 0))
    team_id = invocation.actor.team_id
    async with invocation.runtime.sessions() as session:
        if "query" in key:
            query = str(key["query"])
            found = await memory.search(session, team_id=team_id, text=query, page=page_number)
            title = f"Notes matching “{query}”"
        else:
            service = str(key["service"]) if key.get("service") is not None else None
            found = await memory.listing(session, team_id=team_id, service=service, page=page_number)
            title = f"Notes on {service}" if service else "Operator notes"
    blocks = note_list_blocks(
        found.items, title=title, number=found.number, has_more=found.has_more, key=_without_page(key)
    )
    await invocation.respond(response_type="ephemeral", text=title, blocks=blocks, replace_original=replace)


async def _delete(invocation: Invocation, *, note_id: int) -> None:
    runtime, actor = invocation.runtime, invocation.actor
    async with runtime.sessions.begin() as session:
        note = await memory.delete(session, actor=actor, policy=runtime.policy, note_id=note_id)
    surfaces.home_changed(runtime, actor.team_id)
    await invocation.respond(response_type="ephemeral", text=f"Deleted note {note.id} on {note.service}.")


async def _search_into_modal(runtime: Runtime, client: Any, actor: Actor, view_id: str, query: str) -> None:
    async def show(results: list[dict[str, Any]]) -> None:
        await client.views_update(view_id=view_id, view=memory_search_modal(results, query))

    async def say(message: str) -> None:
        await show([section(f":warning: {message}")])

    async with reporting(say, doing="searching the notes"):
        async with runtime.sessions() as session:
            found = await memory.search(session, team_id=actor.team_id, text=query)
        title = f"Notes matching “{query}”"
        results = note_list_blocks(found.items, title=title, number=0, has_more=False, key={})
        if found.has_more:
            results.append(section(f"More match: `{COMMAND} memory search {query}` pages through them all."))
        await show(results)


def _note_id(raw: str) -> int:
    text = raw.strip().lstrip("#")
    if not text.isdigit() or int(text) <= 0:
        raise UserError(
            f"`{COMMAND} memory delete` needs a note id, a number like 12 (`memory list` shows them)."
        )
    return int(text)


def _without_page(key: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in key.items() if name != "page"}
