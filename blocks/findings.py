"""An investigation's findings as a thread reply: the summary, each finding with the evidence it
cites, and every read that was made (or refused) with what it said."""

from __future__ import annotations

import json
from typing import Any

from blocks.text import MESSAGE_TEXT_MAX, context, escape, section, truncate
from bot.domain import Evidence, Findings

EVIDENCE_LINE_MAX = 400


def findings_reply(findings: Findings) -> tuple[str, list[dict[str, Any]]]:
    headline = f"Investigation: {findings.question}"
    lines = [f"*{escape(truncate(headline, 200))}*"]
    if findings.summary:
        lines.append(escape(findings.summary))
    lines += [f"• {escape(f.text)}{_cited(f.evidence)}" for f in findings.findings]
    if findings.note:
        lines.append(f":information_source: _{escape(findings.note)}_")
    blocks = [section("\n".join(lines))]
    if findings.evidence:
        evidence = [truncate(_evidence_line(e), EVIDENCE_LINE_MAX) for e in findings.evidence]
        blocks.append(section("\n".join(["*Evidence*", *evidence])))
    reads = sum(1 for e in findings.evidence if not e.refused)
    footer = (
        f"{findings.made_by.label} · {reads} read{'s' if reads != 1 else ''} · read-only: nothing was changed"
    )
    blocks.append(context(footer))
    return truncate(headline, MESSAGE_TEXT_MAX), blocks


def _cited(numbers: list[int]) -> str:
    return f" _(evidence {', '.join(f'#{n}' for n in numbers)})_" if numbers else ""


def _evidence_line(evidence: Evidence) -> str:
    mark = ":no_entry:" if evidence.refused else (":white_check_mark:" if evidence.ok else ":x:")
    args = json.dumps(evidence.args, sort_keys=True, separators=(", ", ": "))
    return f"{mark} #{evidence.number} `{evidence.action}` `{escape(args)}`: {escape(evidence.said)}"
