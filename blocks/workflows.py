"""The workflow catalog in Slack: the list, one workflow's steps, and the modal that starts one."""

from __future__ import annotations

import json
from typing import Any

from blocks import ids
from blocks.text import escape, plain, section, truncate
from bot.domain import FieldKind, FormField, WorkflowInfo

TEXT_INPUT_MAX = 3000
# Slack allows at most 100 blocks in a modal; one goes to the introduction.
MODAL_FIELDS_MAX = 99


def workflow_list_blocks(workflows: list[WorkflowInfo]) -> list[dict[str, Any]]:
    blocks = [
        section("*Workflows*  ·  `/carapulse workflow show <name>` for the steps, `start <name>` to run")
    ]
    for info in workflows[:49]:
        inputs = ", ".join(_input_name(field) for field in info.fields)
        example = f"\ne.g. `/carapulse {escape(info.examples[0])}`" if info.examples else ""
        blocks.append(
            section(
                f"*{info.ref.name}* {escape(info.ref.version)}: {escape(info.description)}\n"
                f"Inputs: {escape(inputs)}{example}"
            )
        )
    return blocks


def workflow_show_blocks(info: WorkflowInfo, environment: str) -> list[dict[str, Any]]:
    source = f" from `{escape(info.ref.override)}`" if info.ref.override else " (as defined in code)"
    lines = [
        f"*{info.ref.name}* {escape(info.ref.version)} in {escape(environment)}{source}",
        escape(info.description),
    ]
    steps = ["*Steps*"] + [
        f"{number}. [{step.stage}] `{step.id}`: {escape(step.description)} "
        f"({escape(' or '.join(step.actions))})" + _override_note(step.changed_by_override, step.enabled)
        for number, step in enumerate(info.steps, 1)
    ]
    inputs = ["*Inputs*"] + [
        f"• `{field.name}` ({field.kind}{'' if field.required else ', optional'})"
        + (f", default `{escape(field.default)}`" if field.default is not None else "")
        + (f": {escape(field.hint)}" if field.hint else "")
        for field in info.fields
    ]
    return [section("\n".join(lines)), section("\n".join(steps)), section("\n".join(inputs))]


def workflow_modal(info: WorkflowInfo, *, channel_id: str, thread_ts: str | None) -> dict[str, Any]:
    """A form generated from the workflow's inputs; each input's block_id is the input's name, so
    a refusal can be shown beside its field (`response_action: errors`)."""
    metadata = {"workflow": info.ref.name, "channel_id": channel_id, "thread_ts": thread_ts}
    return form_modal(
        info,
        callback_id=ids.WORKFLOW_START_MODAL,
        metadata=metadata,
        title="Start a workflow",
        submit="Plan it",
        intro=f"*{info.ref.name}* {escape(info.ref.version)}: {escape(info.description)}",
    )


def form_modal(
    info: WorkflowInfo, *, callback_id: str, metadata: dict[str, Any], title: str, submit: str, intro: str
) -> dict[str, Any]:
    """The workflow's inputs as a modal, each field showing its default as its initial value."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps(metadata),
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "blocks": [section(intro), *(_input_block(field) for field in info.fields[:MODAL_FIELDS_MAX])],
    }


def _input_block(field: FormField) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": field.name,
        "label": plain(field.label, 2000),
        "optional": not field.required,
        "element": _element(field),
    }
    if field.hint:
        block["hint"] = plain(field.hint, 2000)
    return block


def _element(field: FormField) -> dict[str, Any]:
    if field.kind in (FieldKind.CHOICE, FieldKind.BOOLEAN):
        options = [_option(choice) for choice in field.choices[:100]]
        element: dict[str, Any] = {
            "type": "static_select",
            "action_id": ids.WORKFLOW_INPUT,
            "options": options,
        }
        if field.default in field.choices:
            element["initial_option"] = _option(field.default)
        return element
    if field.kind in (FieldKind.INTEGER, FieldKind.NUMBER):
        element = {
            "type": "number_input",
            "action_id": ids.WORKFLOW_INPUT,
            "is_decimal_allowed": field.kind == FieldKind.NUMBER,
        }
    else:
        element = {"type": "plain_text_input", "action_id": ids.WORKFLOW_INPUT, "max_length": TEXT_INPUT_MAX}
    if field.default is not None:
        element["initial_value"] = truncate(field.default, TEXT_INPUT_MAX)
    return element


def _option(value: str) -> dict[str, Any]:
    return {"text": plain(value, 75), "value": value[:150]}


def _input_name(field: FormField) -> str:
    return field.name if field.required else f"[{field.name}]"


def _override_note(changed: bool, enabled: bool) -> str:
    if not enabled:
        return " _off here_"
    return " _changed here_" if changed else ""
