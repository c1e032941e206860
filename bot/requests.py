"""A request as text, planned the way a person's slash command plans it: `playbook start <name>
[name=value …]`, `workflow start <name> [name=value …]`, or a sentence (a workflow's, or a plan of its
own). Schedules store such text and plan it when due; playbook starts come through here too."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot import names, operations, playbooks
from bot.domain import Actor, PlanDraft
from bot.operations import Runtime, WorkflowStart
from bot.workflows import forms
from bot.workflows.catalog import WorkflowRequest

PLAYBOOK_START = "playbook start "
WORKFLOW_START = "workflow start "


@dataclass(frozen=True)
class PlaybookStart:
    name: str
    typed: Mapping[str, str]


Understood = PlanDraft | WorkflowStart | PlaybookStart


def understand(runtime: Runtime, text: str) -> Understood:
    """Check the text as far as can be done without I/O; UserError (or InvalidInputs) says why not."""
    text = text.strip()
    lowered = text.lower()
    if lowered.startswith(PLAYBOOK_START):
        name, _, pairs = text[len(PLAYBOOK_START) :].strip().partition(" ")
        return PlaybookStart(name=names.playbook(name), typed=forms.parse_pairs(pairs))
    if lowered.startswith(WORKFLOW_START):
        name, _, pairs = text[len(WORKFLOW_START) :].strip().partition(" ")
        runtime.workflows.get(name)
        return operations.workflow_start(runtime, WorkflowRequest(name=name, typed=forms.parse_pairs(pairs)))
    return operations.understand(runtime, text)


async def plan(
    runtime: Runtime,
    *,
    requester: Actor,
    channel_id: str,
    thread_ts: str | None,
    understood: Understood,
    intent: str,
    source_key: str,
    rate_limited: bool = True,
) -> int:
    """Store the plan and post its card; the plan's id (the first one's, for a repeated source key).
    `rate_limited` as in operations.request_plan."""
    if isinstance(understood, WorkflowStart):
        return await operations.start_workflow(
            runtime,
            requester=requester,
            channel_id=channel_id,
            thread_ts=thread_ts,
            start=understood,
            intent=intent,
            source_key=source_key,
            rate_limited=rate_limited,
        )
    draft = understood
    if isinstance(understood, PlaybookStart):
        async with runtime.sessions() as session:
            playbook = await playbooks.by_name(session, team_id=requester.team_id, name=understood.name)
        made = playbooks.draft(
            playbook, understood.typed, environment=runtime.environment, registry=runtime.registry
        )
        draft = operations.for_this_deployment(runtime, made)
    return await operations.request_plan(
        runtime,
        requester=requester,
        channel_id=channel_id,
        thread_ts=thread_ts,
        draft=draft,
        source_key=source_key,
        rate_limited=rate_limited,
    )
