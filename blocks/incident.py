"""The incident message and its thread replies (diagnostics, timeline, notices).

Everything an alert carries (title, labels, annotations) and what tools read is untrusted: it goes
out as plain_text, or through `literal` in mrkdwn, so a label value of `<!channel>` never pings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from blocks import ids
from blocks.text import (
    BUTTON_TEXT_MAX,
    CONTEXT_TEXT_MAX,
    HEADER_TEXT_MAX,
    SECTION_TEXT_MAX,
    duration,
    literal,
    mrkdwn,
    plain,
    section,
    truncate,
    user,
)
from blocks.timeline import entry_line, sections
from bot.domain import DiagnosticSection, DiagnosticState, IncidentStatus, IncidentView, TimelineEntry

STATUS_EMOJI = {IncidentStatus.FIRING: ":rotating_light:", IncidentStatus.RESOLVED: ":white_check_mark:"}
DIAGNOSTIC_MARKS = {
    DiagnosticState.OK: ":mag:",
    DiagnosticState.FAILED: ":warning:",
    DiagnosticState.UNAVAILABLE: ":heavy_minus_sign:",
}
TIMELINE_SHOWN = 40
_LABELS_SHOWN = 20


def incident_text(view: IncidentView) -> str:
    """The notification text: plain words, escaped, so it pings nobody either."""
    severity = f"[{view.severity}] " if view.severity else ""
    where = f" ({view.service})" if view.service else ""
    state = "resolved" if view.status == IncidentStatus.RESOLVED else "firing"
    return literal(f"Incident #{view.id} {state}: {severity}{view.title}{where}")


def incident_message(view: IncidentView) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "block_id": ids.INCIDENT_HEADER_BLOCK,
            "text": plain(f"Incident #{view.id}: {view.title}", HEADER_TEXT_MAX),
        },
        {"type": "section", "block_id": ids.INCIDENT_FACTS_BLOCK, "fields": _facts(view)},
    ]
    description = view.annotations.get("description", "")
    if description:
        blocks.append({"type": "section", "text": plain(description, SECTION_TEXT_MAX)})
    labels = " · ".join(f"{name}={value}" for name, value in sorted(view.labels.items())[:_LABELS_SHOWN])
    if labels:
        blocks.append({"type": "context", "elements": [plain(labels, CONTEXT_TEXT_MAX)]})
    blocks.append({"type": "actions", "block_id": ids.INCIDENT_ACTIONS_BLOCK, "elements": _buttons(view)})
    return blocks


def diagnostics_reply(
    view: IncidentView, sections: list[DiagnosticSection], *, read_at: datetime, by: str = ""
) -> tuple[str, list[dict[str, Any]]]:
    asked = f", asked by {user(by)}" if by else ""
    headline = f"Diagnostics of incident #{view.id}"
    blocks = [section(f"*{headline}* (read {read_at:%H:%M:%S} UTC{asked})")]
    blocks += [section(_diagnostic_text(part)) for part in sections[:45]]
    return headline, blocks


def timeline_reply(
    view: IncidentView, entries: list[TimelineEntry], *, total: int
) -> tuple[str, list[dict[str, Any]]]:
    headline = f"Timeline of incident #{view.id}"
    lines = [entry_line(entry) for entry in entries[:TIMELINE_SHOWN]]
    if total > len(lines):
        lines.append(f"… and {total - len(lines)} more in the export")
    blocks = sections(f"*{headline}* ({_duration_words(view)})", lines)
    blocks.append(
        {
            "type": "actions",
            "elements": [_button("Export (Markdown + JSON)", ids.INCIDENT_EXPORT, view.id)],
        }
    )
    return headline, blocks


def notice(text: str) -> tuple[str, list[dict[str, Any]]]:
    """A one-line thread reply; `text` is ours (mrkdwn allowed), values in it already literal."""
    return text, [section(text)]


def _facts(view: IncidentView) -> list[dict[str, Any]]:
    status = f"{STATUS_EMOJI[view.status]} {_duration_words(view)}"
    facts = [
        f"*Status*\n{status}",
        f"*Severity*\n{literal(view.severity or 'none')}",
        f"*Service*\n{literal(view.service or '(no service label)')}",
        f"*Alerts*\n{view.alerts_firing:,} firing of {view.alerts_total:,} · {view.deliveries:,} received",
        f"*Started*\n{view.started_at:%Y-%m-%d %H:%M:%S} UTC",
    ]
    if view.acknowledged_by:
        facts.append(f"*Acknowledged*\nby {user(view.acknowledged_by)}")
    return [mrkdwn(fact, 2000) for fact in facts]


def _duration_words(view: IncidentView) -> str:
    if view.status == IncidentStatus.RESOLVED and view.resolved_at is not None:
        took = duration(max(0.0, (view.resolved_at - view.started_at).total_seconds()))
        by = (
            ""
            if not view.resolved_by or view.resolved_by == "alertmanager"
            else f" by {user(view.resolved_by)}"
        )
        return f"Resolved{by} after {took}"
    return f"Firing since {view.started_at:%H:%M} UTC"


def _buttons(view: IncidentView) -> list[dict[str, Any]]:
    links = [
        {
            "type": "button",
            "action_id": f"{ids.INCIDENT_LINK_PREFIX}{n}",
            "text": plain(link.label, BUTTON_TEXT_MAX),
            "url": link.url,
        }
        for n, link in enumerate(view.links)
    ]
    if view.status == IncidentStatus.RESOLVED:
        actions = [_button("Investigate", ids.INCIDENT_INVESTIGATE, view.id)]
    else:
        actions = [
            _button("Acknowledge", ids.INCIDENT_ACKNOWLEDGE, view.id, style="primary"),
            _button("Silence 1h", ids.INCIDENT_SILENCE, view.id),
            _button("Investigate", ids.INCIDENT_INVESTIGATE, view.id),
            _button("Resolve", ids.INCIDENT_RESOLVE, view.id),
        ]
    return actions + links


def _button(label: str, action_id: str, incident_id: int, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": plain(label, BUTTON_TEXT_MAX),
        "value": str(incident_id),
    }
    if style:
        button["style"] = style
    return button


def _diagnostic_text(part: DiagnosticSection) -> str:
    head = f"{DIAGNOSTIC_MARKS[part.state]} *{part.title}* ({part.source})"
    if part.state == DiagnosticState.FAILED:
        return truncate(f"{head}: could not be read: {literal(part.note)}", SECTION_TEXT_MAX)
    if part.state == DiagnosticState.UNAVAILABLE:
        return truncate(f"{head}: {literal(part.note)}", SECTION_TEXT_MAX)
    body = (
        "\n".join(f"• {literal(line)}" for line in part.lines) or f"• {literal(part.note or 'nothing found')}"
    )
    return truncate(f"{head}\n{body}", SECTION_TEXT_MAX)
