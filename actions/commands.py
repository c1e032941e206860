"""The `/carapulse` slash command and its subcommands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp

from actions import payloads
from actions.errors import ephemeral_responder, reporting
from blocks.plan_card import plan_card
from blocks.replies import error_blocks, help_blocks
from bot import freezes, operations, planner
from bot.domain import Actor, PlanDraft
from bot.errors import UserError
from bot.operations import Runtime

COMMAND = "/carapulse"
PLAN_ID_SUBCOMMANDS = frozenset({"status", "approve", "cancel"})
# Subcommands the design reserves for features still to come; named so they are not planned as text.
RESERVED = frozenset({"workflow", "schedule", "runbook", "playbook", "memory", "audit", "context", "policy"})
FREEZE_SUBCOMMANDS = frozenset({"freeze", "unfreeze"})

Work = Callable[[Runtime, Actor, dict[str, Any], Any], Awaitable[None]]


def register(app: AsyncApp, *, runtime: Runtime) -> None:
    @app.command(COMMAND)
    async def handle_carapulse(ack: Any, body: dict[str, Any], respond: Any) -> None:
        subcommand, argument = split(body.get("text", ""))
        if subcommand == "help":
            await ack(response_type="ephemeral", text="Carapulse help", blocks=help_blocks(planner.EXAMPLES))
            return
        try:
            work = _prepare(runtime, subcommand, argument)
        except UserError as exc:
            await ack(response_type="ephemeral", text=exc.message, blocks=error_blocks(exc.message))
            return
        await ack()
        runtime.after_ack.submit(
            _run(work, runtime, payloads.command_actor(body), body, respond),
            name=f"command-{subcommand}",
        )


def split(text: str) -> tuple[str, str]:
    """`status 42` → ("status", "42"); free text is a plan; nothing at all asks for help."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return "help", ""
    first = words[0].lower()
    if first in PLAN_ID_SUBCOMMANDS | FREEZE_SUBCOMMANDS | RESERVED or first in ("help", "plan"):
        return first, words[1] if len(words) > 1 else ""
    return "plan", text.strip()


def _prepare(runtime: Runtime, subcommand: str, argument: str) -> Work:
    """Check everything that needs no I/O, so a mistake is answered inside the 3-second ack."""
    if subcommand in RESERVED:
        raise UserError(f"`{COMMAND} {subcommand}` is not in this version yet; see `{COMMAND} help`.")
    if subcommand == "plan":
        return partial(_plan, draft=operations.draft(runtime, argument))
    if subcommand == "freeze":
        freezes.parse(argument)
        return partial(_freeze, argument=argument)
    if subcommand == "unfreeze":
        if not argument.strip():
            raise UserError(f"`{COMMAND} unfreeze` needs an environment, e.g. `{COMMAND} unfreeze prod`.")
        return partial(_unfreeze, environment=argument.strip())
    if not argument.strip():
        raise UserError(f"`{COMMAND} {subcommand}` needs a plan id, e.g. `{COMMAND} {subcommand} 42`.")
    return partial(_BY_PLAN_ID[subcommand], plan_id=payloads.parse_plan_id(argument))


async def _run(work: Work, runtime: Runtime, actor: Actor, body: dict[str, Any], respond: Any) -> None:
    async with reporting(ephemeral_responder(respond), doing="running your command"):
        await work(runtime, actor, body, respond)


async def _plan(
    runtime: Runtime, actor: Actor, body: dict[str, Any], respond: Any, *, draft: PlanDraft
) -> None:
    await operations.request_plan(
        runtime,
        requester=actor,
        channel_id=body["channel_id"],
        thread_ts=body.get("thread_ts") or None,
        draft=draft,
        source_key=body["trigger_id"],
    )


async def _status(
    runtime: Runtime, actor: Actor, body: dict[str, Any], respond: Any, *, plan_id: int
) -> None:
    view = await operations.status(runtime, actor=actor, plan_id=plan_id)
    await respond(
        response_type="ephemeral",
        text=f"Plan #{view.id}: {view.status}",
        blocks=plan_card(view, interactive=False),
    )


async def _approve(
    runtime: Runtime, actor: Actor, body: dict[str, Any], respond: Any, *, plan_id: int
) -> None:
    await operations.approve(runtime, approver=actor, plan_id=plan_id)
    await respond(response_type="ephemeral", text=f"You approved plan #{plan_id}.")


async def _cancel(
    runtime: Runtime, actor: Actor, body: dict[str, Any], respond: Any, *, plan_id: int
) -> None:
    await operations.cancel(runtime, actor=actor, plan_id=plan_id)
    await respond(response_type="ephemeral", text=f"Cancel of plan #{plan_id} recorded.")


async def _freeze(
    runtime: Runtime, actor: Actor, body: dict[str, Any], respond: Any, *, argument: str
) -> None:
    confirmation = await operations.freeze(runtime, actor=actor, argument=argument)
    await respond(response_type="in_channel", text=f":snowflake: {confirmation} (by <@{actor.user_id}>)")


async def _unfreeze(
    runtime: Runtime, actor: Actor, body: dict[str, Any], respond: Any, *, environment: str
) -> None:
    confirmation = await operations.unfreeze(runtime, actor=actor, environment=environment)
    await respond(response_type="in_channel", text=f"{confirmation} (by <@{actor.user_id}>)")


_BY_PLAN_ID: dict[str, Callable[..., Awaitable[None]]] = {
    "status": _status,
    "approve": _approve,
    "cancel": _cancel,
}
