"""The `/carapulse` slash command and its subcommands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp

from actions import audit_commands, context_commands, payloads
from actions.errors import ephemeral_responder, reporting
from blocks.plan_card import plan_card
from blocks.replies import error_blocks, help_blocks
from blocks.workflows import workflow_list_blocks, workflow_modal, workflow_show_blocks
from bot import freezes, operations, planner
from bot.domain import Actor, PlanDraft
from bot.errors import CarapulseError, UserError
from bot.operations import Runtime, WorkflowStart
from bot.workflows import forms
from bot.workflows.catalog import WorkflowRequest

COMMAND = "/carapulse"
PLAN_ID_SUBCOMMANDS = frozenset({"status", "approve", "cancel"})
# Subcommands the design reserves for features still to come; named so they are not planned as text.
RESERVED = frozenset({"schedule", "runbook", "playbook", "memory", "policy"})
FREEZE_SUBCOMMANDS = frozenset({"freeze", "unfreeze"})
WORKFLOW_USAGE = (
    f"Use `{COMMAND} workflow list`, `workflow show <name>` or `workflow start <name> [name=value …]`."
)


@dataclass(frozen=True)
class Invocation:
    """One slash command as the work after its ack needs it."""

    runtime: Runtime
    actor: Actor
    body: dict[str, Any]
    respond: Any
    client: Any


Work = Callable[[Invocation], Awaitable[None]]
# Subcommands whose words another module reads: it returns the work to do after the ack.
DELEGATED: dict[str, Callable[[Runtime, str], Work]] = {
    "audit": audit_commands.prepare,
    "context": context_commands.prepare,
}


def register(app: AsyncApp, *, runtime: Runtime) -> None:
    @app.command(COMMAND)
    async def handle_carapulse(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        subcommand, argument = split(body.get("text", ""))
        if subcommand == "help":
            examples = tuple(planner.examples(runtime.workflows))
            await ack(response_type="ephemeral", text="Carapulse help", blocks=help_blocks(examples))
            return
        try:
            work, opens_modal = _prepare(runtime, subcommand, argument)
        except CarapulseError as exc:
            await ack(response_type="ephemeral", text=exc.message, blocks=error_blocks(exc.message))
            return
        await ack()
        invocation = Invocation(runtime, payloads.command_actor(body), body, respond, client)
        # A modal must open within the 3 seconds its trigger_id lasts: it does not wait its turn.
        start = runtime.supervisor.spawn if opens_modal else runtime.after_ack.submit
        start(_run(work, invocation), name=f"command-{subcommand}")


def split(text: str) -> tuple[str, str]:
    """`status 42` → ("status", "42"); free text is a plan; nothing at all asks for help."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return "help", ""
    first = words[0].lower()
    if first in PLAN_ID_SUBCOMMANDS | FREEZE_SUBCOMMANDS | RESERVED | DELEGATED.keys() or first in (
        "help",
        "plan",
        "workflow",
    ):
        return first, words[1] if len(words) > 1 else ""
    return "plan", text.strip()


def _prepare(runtime: Runtime, subcommand: str, argument: str) -> tuple[Work, bool]:
    """Check everything that needs no I/O, so a mistake is answered inside the 3-second ack; the
    work to do after it, and whether that work opens a modal."""
    if subcommand in DELEGATED:
        return DELEGATED[subcommand](runtime, argument), False
    if subcommand in RESERVED:
        raise UserError(f"`{COMMAND} {subcommand}` is not in this version yet; see `{COMMAND} help`.")
    if subcommand == "plan":
        return _planning(operations.understand(runtime, argument), intent=argument), False
    if subcommand == "workflow":
        return _prepare_workflow(runtime, argument)
    if subcommand == "freeze":
        freezes.parse(argument)
        return partial(_freeze, argument=argument), False
    if subcommand == "unfreeze":
        if not argument.strip():
            raise UserError(f"`{COMMAND} unfreeze` needs an environment, e.g. `{COMMAND} unfreeze prod`.")
        return partial(_unfreeze, environment=argument.strip()), False
    if not argument.strip():
        raise UserError(f"`{COMMAND} {subcommand}` needs a plan id, e.g. `{COMMAND} {subcommand} 42`.")
    return partial(_BY_PLAN_ID[subcommand], plan_id=payloads.parse_plan_id(argument)), False


def _prepare_workflow(runtime: Runtime, argument: str) -> tuple[Work, bool]:
    verb, _, rest = argument.strip().partition(" ")
    name, _, pairs = rest.strip().partition(" ")
    if verb.lower() in ("", "list"):
        return _workflow_list, False
    if verb.lower() not in ("show", "start") or not name:
        raise UserError(WORKFLOW_USAGE)
    runtime.workflows.get(name)
    if verb.lower() == "show":
        return partial(_workflow_show, name=name), False
    if not pairs.strip():
        return partial(_open_workflow_modal, name=name), True
    request = WorkflowRequest(name=name, typed=forms.parse_pairs(pairs))
    start = operations.workflow_start(runtime, request)
    return _planning(start, intent=f"workflow {argument.strip()}"), False


def _planning(understood: PlanDraft | WorkflowStart, *, intent: str) -> Work:
    if isinstance(understood, WorkflowStart):
        return partial(_start_workflow, start=understood, intent=intent)
    return partial(_plan, draft=understood)


async def _run(work: Work, invocation: Invocation) -> None:
    async with reporting(ephemeral_responder(invocation.respond), doing="running your command"):
        await work(invocation)


async def _plan(invocation: Invocation, *, draft: PlanDraft) -> None:
    await operations.request_plan(
        invocation.runtime,
        requester=invocation.actor,
        channel_id=invocation.body["channel_id"],
        thread_ts=invocation.body.get("thread_ts") or None,
        draft=draft,
        source_key=invocation.body["trigger_id"],
    )


async def _start_workflow(invocation: Invocation, *, start: WorkflowStart, intent: str) -> None:
    await operations.start_workflow(
        invocation.runtime,
        requester=invocation.actor,
        channel_id=invocation.body["channel_id"],
        thread_ts=invocation.body.get("thread_ts") or None,
        start=start,
        intent=intent,
        source_key=invocation.body["trigger_id"],
    )


async def _workflow_list(invocation: Invocation) -> None:
    infos = operations.workflow_catalog(invocation.runtime)
    await invocation.respond(response_type="ephemeral", text="Workflows", blocks=workflow_list_blocks(infos))


async def _workflow_show(invocation: Invocation, *, name: str) -> None:
    runtime = invocation.runtime
    info = runtime.workflows.info(name, runtime.environment)
    blocks = workflow_show_blocks(info, runtime.environment)
    await invocation.respond(response_type="ephemeral", text=f"Workflow {name}", blocks=blocks)


async def _open_workflow_modal(invocation: Invocation, *, name: str) -> None:
    runtime, body = invocation.runtime, invocation.body
    info = runtime.workflows.info(name, runtime.environment)
    view = workflow_modal(info, channel_id=body["channel_id"], thread_ts=body.get("thread_ts") or None)
    await invocation.client.views_open(trigger_id=body["trigger_id"], view=view)


async def _status(invocation: Invocation, *, plan_id: int) -> None:
    view = await operations.status(invocation.runtime, actor=invocation.actor, plan_id=plan_id)
    await invocation.respond(
        response_type="ephemeral",
        text=f"Plan #{view.id}: {view.status}",
        blocks=plan_card(view, interactive=False),
    )


async def _approve(invocation: Invocation, *, plan_id: int) -> None:
    await operations.approve(invocation.runtime, approver=invocation.actor, plan_id=plan_id)
    await invocation.respond(response_type="ephemeral", text=f"You approved plan #{plan_id}.")


async def _cancel(invocation: Invocation, *, plan_id: int) -> None:
    await operations.cancel(invocation.runtime, actor=invocation.actor, plan_id=plan_id)
    await invocation.respond(response_type="ephemeral", text=f"Cancel of plan #{plan_id} recorded.")


async def _freeze(invocation: Invocation, *, argument: str) -> None:
    confirmation = await operations.freeze(invocation.runtime, actor=invocation.actor, argument=argument)
    by = f"(by <@{invocation.actor.user_id}>)"
    await invocation.respond(response_type="in_channel", text=f":snowflake: {confirmation} {by}")


async def _unfreeze(invocation: Invocation, *, environment: str) -> None:
    runtime, actor = invocation.runtime, invocation.actor
    confirmation = await operations.unfreeze(runtime, actor=actor, environment=environment)
    await invocation.respond(response_type="in_channel", text=f"{confirmation} (by <@{actor.user_id}>)")


_BY_PLAN_ID: dict[str, Callable[..., Awaitable[None]]] = {
    "status": _status,
    "approve": _approve,
    "cancel": _cancel,
}
