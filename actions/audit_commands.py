"""`/carapulse audit …`: search the audit log (paged with buttons), export it to a DM, verify it."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp

from actions import payloads
from actions.errors import ephemeral_responder, reporting
from blocks import ids
from blocks.audit import audit_page_blocks, audit_page_text, verification_text
from bot import audit_export, audit_log, audit_search
from bot.audit_search import AuditFilter
from bot.clock import utcnow
from bot.operations import Runtime

if TYPE_CHECKING:
    from actions.commands import Invocation, Work


def prepare(runtime: Runtime, argument: str) -> tuple[Work, bool]:
    """Read the subcommand's words (raises UserError inside the ack); the work to do after it, which
    opens no modal."""
    verb, _, rest = argument.strip().partition(" ")
    if verb.lower() == "verify" and not rest.strip():
        return _verify, False
    if verb.lower() == "export":
        return partial(_export, period=audit_export.parse_range(rest, now=utcnow())), False
    return partial(_search, audit_filter=audit_search.parse(argument, now=utcnow())), False


def register(app: AsyncApp, *, runtime: Runtime) -> None:
    async def handle_audit_page(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        runtime.after_ack.submit(_turn_page(runtime, body, respond), name="audit-page")

    for action_id in (ids.AUDIT_OLDER, ids.AUDIT_NEWEST):
        app.action(action_id)(handle_audit_page)


async def _search(invocation: Invocation, *, audit_filter: AuditFilter) -> None:
    page = await audit_log.search(invocation.runtime, actor=invocation.actor, audit_filter=audit_filter)
    await invocation.respond(
        response_type="ephemeral", text=audit_page_text(page), blocks=audit_page_blocks(page)
    )


async def _turn_page(runtime: Runtime, body: dict[str, Any], respond: Any) -> None:
    async with reporting(ephemeral_responder(respond), doing="turning the page of the audit log"):
        audit_filter, before = audit_search.from_token(body["actions"][0].get("value", ""))
        actor = payloads.interaction_actor(body)
        page = await audit_log.search(runtime, actor=actor, audit_filter=audit_filter, before=before)
        await respond(replace_original=True, text=audit_page_text(page), blocks=audit_page_blocks(page))


async def _verify(invocation: Invocation) -> None:
    checked = await audit_log.verify(invocation.runtime, actor=invocation.actor)
    broken = checked.broken.line() if checked.broken is not None else None
    text = verification_text(events=checked.events, streams=checked.streams, broken=broken)
    await invocation.respond(response_type="ephemeral", text=text)


async def _export(invocation: Invocation, *, period: audit_export.Range) -> None:
    events = await audit_export.export(invocation.runtime, actor=invocation.actor, period=period)
    text = (
        f"I sent you {events} audit events from {period.words()}, as CSV and JSON Lines."
        if events
        else f"There are no audit events from {period.words()}; nothing was sent."
    )
    await invocation.respond(response_type="ephemeral", text=text)
