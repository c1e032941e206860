"""Step output too long for a message: the card shows a trimmed line, and the whole output goes into
the plan's thread as a file (files.uploadV2), so nothing a tool said is lost to Block Kit limits."""

from __future__ import annotations

import json
from dataclasses import dataclass

from blocks.text import SECTION_TEXT_MAX
from bot.domain import PlanView, StepView

# slack_sdk sends an upload as one raw body; past 1 MiB aiohttp warns about it, and step output of that
# size is a runaway log, not something to read in Slack.
FILE_MAX_BYTES = 1_000_000
TRUNCATION_NOTE = "\n… (cut at 1 MB)\n"


@dataclass(frozen=True)
class OutputFile:
    filename: str
    title: str
    content: str


def step_output_files(view: PlanView) -> list[OutputFile]:
    """One file per step whose full output would not fit in a message section."""
    files = []
    for number, step in enumerate(view.steps, 1):
        text = full_output(step)
        if len(text) > SECTION_TEXT_MAX:
            files.append(
                OutputFile(
                    filename=f"plan-{view.id}-step-{number}-{step.action}.txt",
                    title=f"Plan #{view.id} step {number}: {step.action} output",
                    content=_cap(text),
                )
            )
    return files


def full_output(step: StepView) -> str:
    parts = [f"{step.action} {json.dumps(step.args, sort_keys=True)}", f"state: {step.state}"]
    if step.output_summary:
        parts.append(f"summary: {step.output_summary}")
    if step.error:
        parts.append(f"error: {step.error}")
    if step.output:
        parts.append(json.dumps(step.output, indent=2, sort_keys=True, default=str))
    return "\n".join(parts) + "\n"


def _cap(text: str) -> str:
    encoded = text.encode()
    if len(encoded) <= FILE_MAX_BYTES:
        return text
    room = FILE_MAX_BYTES - len(TRUNCATION_NOTE.encode())
    return encoded[:room].decode(errors="ignore") + TRUNCATION_NOTE
