"""Schedules in Slack: `/carapulse schedule add "<cron>" [tz=…] <request>|new|list|show|pause|resume|
delete|run <id>`, the buttons of the list and the App Home, and the modal that makes a schedule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp

from actions import fields, forms, payloads, surfaces
from actions.commands import COMMAND, Invocation, Work
from blocks import ids
from blocks.forms import modal, pager_clicks
from blocks.schedules import (
    run_line,
    schedule_line,
    schedule_list_blocks,
    schedule_modal,
    schedule_show_blocks,
)
from bot import requests, schedules
from bot.domain import Actor
from bot.errors import CarapulseError, UserError
from bot.operations import Runtime

USAGE = (
    f'Use `{COMMAND} schedule add "<cron>" [tz=<Area/City>] <request>`, `schedule new`, `schedule list`, '
    "or `schedule show|pause|resume|delete|run <schedule id>`."
)
_BY_ID = ("show", "pause", "resume", "delete", "run")
_PAGE_BUTTONS = pager_clicks(ids.SCHEDULE_PAGE)


def prepare(runtime: Runtime, argument: str) -> tuple[Work, bool]:
    verb, _, rest = argument.strip().partition(" ")
    verb, rest = verb.lower(), rest.strip()
    if verb == "new" or (verb == "add" and not rest):
        return _open_modal, True
    if verb == "add":
        cron, timezone, request = schedules.parse_add(rest)
        requests.understand(runtime, request)
        return partial(_create, cron=cron, timezone=timezone, request=request), False
    if verb in ("", "list"):
        return partial(_list, page=0), False
    if verb in _BY_ID:
        return partial(_BY_ID_WORK[verb], schedule_id=_schedule_id(verb, rest)), False
    raise UserError(USAGE)


def register(app: AsyncApp, *, runtime: Runtime) -> None:
    @app.action(ids.SCHEDULE_NEW)
    @app.action(ids.SCHEDULE_PAUSE)
    @app.action(ids.SCHEDULE_RESUME)
    @app.action(ids.SCHEDULE_RUN)
    @app.action(ids.SCHEDULE_SHOW)
    @app.action(_PAGE_BUTTONS)
    async def handle_schedule_button(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        await ack()
        action_id, _ = payloads.clicked(body)
        invocation = Invocation(runtime, payloads.interaction_actor(body), body, respond, client)
        # Modals open at once (a click's trigger_id lasts 3 seconds); the rest waits its turn.
        start = runtime.supervisor.spawn if action_id in _OPEN_MODALS else runtime.after_ack.submit
        start(surfaces.run(_clicked, invocation, doing="working on the schedule"), name=action_id)

    forms.register(
        app,
        runtime,
        ids.SCHEDULE_MODAL,
        read=partial(_read, runtime),
        act=_create_from_form,
        doing="making the schedule",
    )


async def _clicked(invocation: Invocation) -> None:
    action_id, value = payloads.clicked(invocation.body)
    if action_id == ids.SCHEDULE_NEW:
        await _open_modal(invocation)
    elif action_id == ids.SCHEDULE_SHOW:
        await _show(invocation, schedule_id=payloads.positive_id(value, "a schedule"))
    elif action_id in _BUTTON_VERBS:
        await _BY_ID_WORK[_BUTTON_VERBS[action_id]](
            invocation, schedule_id=payloads.positive_id(value, "a schedule")
        )
    else:
        await _list(invocation, page=payloads.clicked_page(invocation.body)["page"], replace=True)


async def _open_modal(invocation: Invocation) -> None:
    view = schedule_modal(channel_id=surfaces.channel_of(invocation.body))
    await invocation.client.views_open(trigger_id=invocation.body["trigger_id"], view=view)


async def _create(invocation: Invocation, *, cron: str, timezone: str, request: str) -> None:
    channel_id = surfaces.channel_of(invocation.body)
    say = _responder(invocation)
    await _store(invocation.runtime, invocation.actor, cron, timezone, request, channel_id, say)


async def _store(
    runtime: Runtime,
    actor: Actor,
    cron: str,
    timezone: str,
    request: str,
    channel_id: str,
    say: Callable[[str], Awaitable[None]],
) -> None:
    async with runtime.sessions.begin() as session:
        made = await schedules.create(
            session, actor=actor, cron=cron, timezone=timezone, request=request, channel_id=channel_id
        )
    _changed(runtime, actor)
    await say(f"Schedule made. {schedule_line(made)}")


async def _list(invocation: Invocation, *, page: int, replace: bool = False) -> None:
    async with invocation.runtime.sessions() as session:
        found = await schedules.listing(session, team_id=invocation.actor.team_id, page=page)
    blocks = schedule_list_blocks(found.items, number=found.number, has_more=found.has_more)
    await _respond(invocation, "Schedules", blocks, replace=replace)


async def _show(invocation: Invocation, *, schedule_id: int) -> None:
    team_id = invocation.actor.team_id
    async with invocation.runtime.sessions() as session:
        schedule = await schedules.get(session, team_id=team_id, schedule_id=schedule_id)
        runs = await schedules.history(session, team_id=team_id, schedule_id=schedule_id)
    await _respond(invocation, f"Schedule #{schedule_id}", schedule_show_blocks(schedule, runs.items))


async def _toggle(invocation: Invocation, *, schedule_id: int, enabled: bool) -> None:
    runtime, actor = invocation.runtime, invocation.actor
    async with runtime.sessions.begin() as session:
        await schedules.set_enabled(
            session, actor=actor, policy=runtime.policy, schedule_id=schedule_id, enabled=enabled
        )
    _changed(runtime, actor)
    await _responder(invocation)(f"{'Resumed' if enabled else 'Paused'} schedule #{schedule_id}.")


async def _delete(invocation: Invocation, *, schedule_id: int) -> None:
    runtime, actor = invocation.runtime, invocation.actor
    async with runtime.sessions.begin() as session:
        deleted = await schedules.delete(session, actor=actor, policy=runtime.policy, schedule_id=schedule_id)
    _changed(runtime, actor)
    await _responder(invocation)(f"Deleted schedule #{deleted.id} (`{deleted.request}`).")


async def _run_now(invocation: Invocation, *, schedule_id: int) -> None:
    runtime = invocation.runtime
    if runtime.scheduler is None:
        raise UserError("This Carapulse runs no scheduler.")
    run = await runtime.scheduler.run_now(runtime, actor=invocation.actor, schedule_id=schedule_id)
    await _responder(invocation)(f"Schedule #{schedule_id}: {run_line(run).removeprefix('• ')}")


def _changed(runtime: Runtime, actor: Actor) -> None:
    if runtime.scheduler is not None:
        runtime.scheduler.wake()
    surfaces.home_changed(runtime, actor.team_id)


def _responder(invocation: Invocation) -> Callable[[str], Awaitable[None]]:
    """Answers the person: ephemerally where the request came with a response_url, else on the Home."""
    if invocation.body.get("response_url"):

        async def say(message: str) -> None:
            await invocation.respond(response_type="ephemeral", text=message, replace_original=False)

        return say
    return surfaces.teller(invocation.runtime, invocation.client, invocation.actor, "")


async def _respond(
    invocation: Invocation, text: str, blocks: list[dict[str, Any]], *, replace: bool = False
) -> None:
    """Ephemerally where the request has a response_url; from the App Home, in a modal."""
    if invocation.body.get("response_url"):
        await invocation.respond(
            response_type="ephemeral", text=text, blocks=blocks, replace_original=replace
        )
        return
    view = modal(callback_id=ids.SCHEDULE_HISTORY_MODAL, title=text, blocks=blocks)
    await invocation.client.views_open(trigger_id=invocation.body["trigger_id"], view=view)


def _read(runtime: Runtime, view: dict[str, Any]) -> tuple[str, str, str, str]:
    """(cron, time zone, request, channel) as the modal gives them, each checked beside its field."""
    timezone = fields.checked(view, ids.SCHEDULE_TZ_BLOCK, schedules.check_timezone)
    cron = fields.checked(view, ids.SCHEDULE_CRON_BLOCK, lambda raw: _cron(raw, timezone))
    request = fields.checked(view, ids.SCHEDULE_REQUEST_BLOCK, partial(_request, runtime))
    return cron, timezone, request, fields.channel(view, fields.metadata(view))


async def _create_from_form(submission: forms.Submission, schedule: tuple[str, str, str, str]) -> None:
    await _store(submission.runtime, submission.actor, *schedule, submission.say)


def _cron(raw: str, timezone: str) -> str:
    cron = " ".join(raw.split())
    schedules.check_cron(cron, timezone)
    return cron


def _request(runtime: Runtime, raw: str) -> str:
    request = schedules.check_request(raw)
    try:
        requests.understand(runtime, request)
    except CarapulseError as exc:
        raise UserError(exc.message) from None
    return request


def _schedule_id(verb: str, raw: str) -> int:
    text = raw.strip().lstrip("#")
    if not text.isdigit() or int(text) <= 0:
        raise UserError(
            f"`{COMMAND} schedule {verb}` needs a schedule id, a number like 3 (`schedule list`)."
        )
    return int(text)


_BY_ID_WORK: dict[str, Callable[..., Awaitable[None]]] = {
    "show": _show,
    "pause": partial(_toggle, enabled=False),
    "resume": partial(_toggle, enabled=True),
    "delete": _delete,
    "run": _run_now,
}
_OPEN_MODALS = frozenset({ids.SCHEDULE_NEW, ids.SCHEDULE_SHOW})
_BUTTON_VERBS = {
    ids.SCHEDULE_PAUSE: "pause",
    ids.SCHEDULE_RESUME: "resume",
    ids.SCHEDULE_RUN: "run",
}
