"""The App Home tab: published when opened (`app_home_opened`), refreshed with its Refresh button,
paged section by section, and the buttons that open the notes and runbook modals from it. Its
other buttons (Approve, Reject, schedules, runbooks, playbooks) are the ones those features own."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from actions import payloads, surfaces
from actions.errors import reporting
from blocks import ids
from blocks.forms import pager_clicks
from blocks.library import runbook_view_modal
from blocks.memory import memory_modal, memory_search_modal
from bot import runbooks
from bot.errors import UserError
from bot.operations import Runtime

log = logging.getLogger(__name__)

_PAGE_BUTTONS = pager_clicks(ids.HOME_PAGE)
_MODALS = {
    ids.HOME_MEMORY_SEARCH: memory_search_modal,
    ids.HOME_MEMORY_ADD: memory_modal,
}


def register(app: AsyncApp, *, runtime: Runtime) -> None:
    home = runtime.home
    if home is None:
        return

    @app.event("app_home_opened")
    async def handle_app_home_opened(body: dict[str, Any], event: dict[str, Any]) -> None:
        opened = _opener(body, event)
        if opened is not None:
            home.opened(*opened)

    @app.action(ids.HOME_REFRESH)
    async def handle_home_refresh(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        actor = payloads.interaction_actor(body)
        home.opened(actor.team_id, actor.user_id)

    @app.action(_PAGE_BUTTONS)
    async def handle_home_page(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        actor = payloads.interaction_actor(body)
        try:
            wanted = payloads.clicked_page(body)
        except UserError as exc:
            home.notice(actor.team_id, actor.user_id, exc.message)
            return
        home.show_page(actor.team_id, actor.user_id, str(wanted.get("section", "")), wanted["page"])

    @app.action(ids.HOME_MEMORY_SEARCH)
    @app.action(ids.HOME_MEMORY_ADD)
    async def handle_home_modal(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        view = _MODALS[payloads.clicked(body)[0]]()
        runtime.supervisor.spawn(
            client.views_open(trigger_id=body["trigger_id"], view=view), name="home-modal"
        )

    @app.action(ids.RUNBOOK_OPEN)
    async def handle_runbook_open(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        runtime.supervisor.spawn(_open_runbook(runtime, body, client), name="runbook-open")


async def _open_runbook(runtime: Runtime, body: dict[str, Any], client: Any) -> None:
    actor = payloads.interaction_actor(body)
    async with reporting(surfaces.teller(runtime, client, actor, ""), doing="opening the runbook"):
        runbook_id = payloads.positive_id(payloads.clicked(body)[1], "a runbook")
        async with runtime.sessions() as session:
            runbook = await runbooks.get(session, team_id=actor.team_id, runbook_id=runbook_id)
        await client.views_open(trigger_id=body["trigger_id"], view=runbook_view_modal(runbook))


def _opener(body: dict[str, Any], event: dict[str, Any]) -> tuple[str, str] | None:
    """(team, user) of an opened Home tab; None for the Messages tab or an event missing either,
    which is logged and otherwise ignored (there is nobody to answer)."""
    if event.get("tab", "home") != "home":
        return None
    view = event.get("view")
    team_id = body.get("team_id") or (view.get("team_id") if isinstance(view, dict) else None)
    user_id = event.get("user")
    if not isinstance(team_id, str) or not team_id or not isinstance(user_id, str) or not user_id:
        log.warning(
            "ignored an app_home_opened event without a team and a user (event %s)", body.get("event_id")
        )
        return None
    return team_id, user_id
