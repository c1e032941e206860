"""The `/carapulse` slash command and its subcommands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp

from actions import payloads
from actions.errors import ephemeral_responder, reporting
from blocks.plan_card import plan_card
from blocks.replies import error_blocks, help_blocks
from blocks.workflows import workflow_list_blocks, workflow_modal, workflow_show_blocks
from bot import freezes, incident_ops, operations, planner, proposals
from bot.domain import Actor, PlanDraft
from bot.errors import CarapulseError, UserError
from bot.incident_desk import IncidentDesk
from bot.operations import Runtime, WorkflowStart
from bot.workflows import forms
from bot.workflows.catalog import WorkflowRequest

COMMAND = "/carapulse"
PLAN_ID_SUBCOMMANDS = frozenset({"status", "approve", "cancel"})
# Subcommands the design reserves for features still to come; named so they are not planned as text.
RESERVED = frozenset({"policy"})
# Subcommands whose own listener modules prepare their work (actions/__init__.py hands them in).
DELEGATED = frozenset({"schedule", "runbook", "playbook", "memory", "audit", "context", "session"})
FREEZE_SUBCOMMANDS = frozenset({"freeze", "unfreeze"})
INCIDENT_USAGE = f"Use `{COMMAND} incident export <id>` to get an incident's timeline as Markdown and JSON."
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
# Checks a subcommand's argument without I/O (raising CarapulseError) and returns the work to do
# after the ack, and whether that work opens a modal.
Prepare = Callable[[Runtime, str], tuple[Work, bool]]


def register(
    app: AsyncApp,
    *,
    runtime: Runtime,
    incidents: IncidentDesk | None = None,
    delegated: Mapping[str, Prepare] | None = None,
) -> None:
    delegated = dict(delegated or {})

    @app.command(COMMAND)
    async def handle_carapulse(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        subcommand, argument = split(body.get("text", ""))
        if subcommand == "help":
            examples = tuple(planner.examples(runtime.workflows))
            await ack(response_type="ephemeral", text="Carapulse help", blocks=help_blocks(examples))
            return
        try:
            if subcommand == "incident":
                work, opens_modal = _prepare_incident(incidents, argument), False
            else:
                prepare = delegated.get(subcommand, partial(_prepare, subcommand=subcommand))
                work, opens_modal = prepare(runtime, argument)
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
    named = PLAN_ID_SUBCOMMANDS | FREEZE_SUBCOMMANDS | RESERVED | DELEGATED
    if first in named or first in ("help", "plan", "workflow", "incident"):
        return first, words[1] if len(words) > 1 else ""
    return "plan", text.strip()


def _prepare(runtime: Runtime, argument: str, *, subcommand: str) -> tuple[Work, bool]:
    """Check everything that needs no I/O, so a mistake is answered inside the 3-second ack; the
    work to do after it, and whether that work opens a modal."""
    if subcommand in RESERVED | DELEGATED:
        raise UserError(f"`{COMMAND} {subcommand}` is not in this version yet; see `{COMMAND} help`.")
    if subcommand == "plan":
        if not runtime.planner.answers_in_ack and argument.strip():
            return partial(_propose, text=argument.strip()), False
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


def _prepare_incident(incidents: IncidentDesk | None, argument: str) -> Work:
    if incidents is None:
        raise UserError("Incidents are not set up here: no webhook credential is configured.")
    verb, _, raw_id = argument.strip().partition(" ")
    if verb.lower() != "export" or not raw_id.strip():
        raise UserError(INCIDENT_USAGE)
    return partial(_incident_export, desk=incidents, incident_id=payloads.parse_incident_id(raw_id))


async def _incident_export(invocation: Invocation, *, desk: IncidentDesk, incident_id: int) -> None:
    body = invocation.body
    await incident_ops.export(
        desk,
        actor=invocation.actor,
        incident_id=incident_id,
        channel_id=body["channel_id"],
        thread_ts=body.get("thread_ts") or None,
    )


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


async def _propose(invocation: Invocation, *, text: str) -> None:
    await proposals.plan_text(
        invocation.runtime,
        requester=invocation.actor,
        channel_id=invocation.body["channel_id"],
        thread_ts=invocation.body.get("thread_ts") or None,
        text=text,
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
