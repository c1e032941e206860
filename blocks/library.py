"""Runbooks and playbooks in Slack: a runbook shown whole, the playbook list, and the modals that
create, edit and start them."""

from __future__ import annotations

from typing import Any

import yaml

from blocks import ids
from blocks.forms import button, channel_input, modal, pager, text_input
from blocks.text import context, escape, section, truncate, user
from bot.domain import PlaybookView, RunbookView

MARKDOWN_MAX = 12000
BODY_INPUT_MAX = 3000
# A runbook list answer stays well inside a message's 50 blocks: three blocks per runbook.
RUNBOOKS_SHOWN = 10
PLAYBOOK_EXAMPLE = (
    "inputs: [service]\n"
    "target: {service: '{service}', namespace: shop}\n"
    "steps:\n"
    "  - action: kubernetes.rollout_restart\n"
    "    args: {namespace: shop, name: '{service}'}\n"
    "    description: Restart {service}\n"
)


def provenance(source: str, version: str, updated_by: str) -> str:
    if source:
        return f"from `{escape(source)}` at `{escape(version[:12])}`"
    return f"{escape(version)}, saved by {user(updated_by)}"


def runbook_blocks(runbooks: list[RunbookView], *, service: str, has_more: bool) -> list[dict[str, Any]]:
    """The runbooks of one service, each whole, with Edit where Slack may change it."""
    blocks: list[dict[str, Any]] = []
    for runbook in runbooks[:RUNBOOKS_SHOWN]:
        heading = section(f"*{escape(runbook.title)}* ({escape(runbook.service)}, runbook {runbook.id})")
        if not runbook.source:
            heading["accessory"] = button("Edit", ids.RUNBOOK_EDIT, str(runbook.id))
        blocks += [
            heading,
            {"type": "markdown", "text": truncate(runbook.body, MARKDOWN_MAX)},
            context(
                remediation_line(runbook)
                + " · "
                + provenance(runbook.source, runbook.version, runbook.updated_by)
            ),
        ]
    if not runbooks:
        blocks.append(section(f"No runbook for *{escape(service)}* yet."))
    if has_more:
        blocks.append(context(f"More runbooks of {escape(service)} are on the App Home."))
    blocks.append({"type": "actions", "elements": [button("New runbook", ids.RUNBOOK_NEW, service)]})
    return blocks


def remediation_line(runbook: RunbookView) -> str:
    if runbook.workflow is None:
        return "No remediation workflow"
    command = " ".join([runbook.workflow, *(f"{name}={value}" for name, value in runbook.inputs.items())])
    return f"Remediation: `{escape(command)}` for {escape(', '.join(runbook.alertnames) or 'no alert')}"


def runbook_modal(
    runbook: RunbookView | None = None, *, service: str = "", channel_id: str = ""
) -> dict[str, Any]:
    inputs = " ".join(f"{name}={value}" for name, value in (runbook.inputs if runbook else {}).items())
    return modal(
        callback_id=ids.RUNBOOK_MODAL,
        title=f"Edit runbook {runbook.id}" if runbook else "New runbook",
        submit="Save",
        metadata={"runbook_id": runbook.id if runbook else None, "channel_id": channel_id},
        blocks=[
            text_input(
                ids.RUNBOOK_SERVICE_BLOCK,
                "Service",
                initial=runbook.service if runbook else service,
                max_length=64,
            ),
            text_input(
                ids.RUNBOOK_TITLE_BLOCK, "Title", initial=runbook.title if runbook else "", max_length=150
            ),
            text_input(
                ids.RUNBOOK_BODY_BLOCK,
                "Steps (Markdown)",
                initial=runbook.body if runbook else "",
                multiline=True,
                max_length=BODY_INPUT_MAX,
            ),
            text_input(
                ids.RUNBOOK_WORKFLOW_BLOCK,
                "Remediation workflow",
                initial=(runbook.workflow or "") if runbook else "",
                optional=True,
                max_length=64,
                hint="A workflow from `/carapulse workflow list`, run when a linked alert fires.",
            ),
            text_input(
                ids.RUNBOOK_INPUTS_BLOCK,
                "Workflow inputs",
                initial=inputs,
                optional=True,
                hint="name=value words, e.g. action=restart name=checkout namespace=shop",
            ),
            text_input(
                ids.RUNBOOK_ALERTS_BLOCK,
                "Alerts it remediates",
                initial=", ".join(runbook.alertnames) if runbook else "",
                optional=True,
                hint="Alertnames, separated by commas or spaces.",
            ),
        ],
    )


def playbook_list_blocks(
    playbooks: list[PlaybookView], *, number: int, has_more: bool
) -> list[dict[str, Any]]:
    blocks = [section("*Playbooks*  ·  `/carapulse playbook start <name> [name=value …]`")]
    for playbook in playbooks:
        blocks.append(playbook_line(playbook))
    if not playbooks:
        blocks.append(section("No playbooks yet."))
    buttons = [
        button("New playbook", ids.PLAYBOOK_NEW),
        *pager(ids.PLAYBOOK_PAGE, number=number, has_more=has_more, key={}),
    ]
    blocks.append({"type": "actions", "elements": buttons})
    return blocks


def playbook_line(playbook: PlaybookView) -> dict[str, Any]:
    inputs = ", ".join(
        name if default is None else f"[{name}={default}]" for name, default in playbook.inputs.items()
    )
    block = section(
        f"*{escape(playbook.name)}*: {escape(playbook.description or '(no description)')}\n"
        f"{len(playbook.steps)} step{'s' if len(playbook.steps) != 1 else ''}"
        + (f" · inputs: {escape(inputs)}" if inputs else "")
        + f" · {provenance(playbook.source, playbook.version, playbook.updated_by)}"
    )
    block["accessory"] = button("Start", ids.PLAYBOOK_START, playbook.name, style="primary")
    return block


def playbook_modal(playbook: PlaybookView | None = None, *, channel_id: str = "") -> dict[str, Any]:
    definition = (
        yaml.safe_dump(playbook.spec, sort_keys=False, allow_unicode=True) if playbook else PLAYBOOK_EXAMPLE
    )
    return modal(
        callback_id=ids.PLAYBOOK_MODAL,
        title=f"Edit {playbook.name}" if playbook else "New playbook",
        submit="Save",
        metadata={"playbook_id": playbook.id if playbook else None, "channel_id": channel_id},
        blocks=[
            text_input(
                ids.PLAYBOOK_NAME_BLOCK, "Name", initial=playbook.name if playbook else "", max_length=48
            ),
            text_input(
                ids.PLAYBOOK_DEFINITION_BLOCK,
                "Definition (YAML)",
                initial=definition,
                multiline=True,
                hint="description, inputs, target {service, namespace}, "
                "steps [{action, args, description, stage}]",
            ),
        ],
    )


def playbook_start_modal(playbook: PlaybookView, *, channel_id: str) -> dict[str, Any]:
    """One field per input, prefilled with its default; each block is named for its input."""
    steps = "\n".join(f"{n}. {escape(step.description)}" for n, step in enumerate(playbook.steps, 1))
    metadata = {"playbook": playbook.name, "inputs": playbook.inputs, "channel_id": channel_id}
    return modal(
        callback_id=ids.PLAYBOOK_START_MODAL,
        title="Start a playbook",
        submit="Plan it",
        metadata=metadata,
        blocks=[
            section(f"*{escape(playbook.name)}*: {escape(playbook.description)}\n{steps}"),
            *(
                text_input(name, name, initial=default or "", optional=default is not None, max_length=200)
                for name, default in list(playbook.inputs.items())[:90]
            ),
            *([] if channel_id else [channel_input()]),
        ],
    )


def runbook_view_modal(runbook: RunbookView) -> dict[str, Any]:
    """A runbook opened from the App Home: its steps whole, and where it came from."""
    return modal(
        callback_id=ids.RUNBOOK_VIEW_MODAL,
        title=f"Runbook {runbook.id}",
        blocks=[
            section(f"*{escape(runbook.title)}* ({escape(runbook.service)})"),
            {"type": "markdown", "text": truncate(runbook.body, MARKDOWN_MAX)},
            context(
                remediation_line(runbook)
                + " · "
                + provenance(runbook.source, runbook.version, runbook.updated_by)
            ),
        ],
    )
