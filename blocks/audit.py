"""The audit log in Slack: a page of a search with its paging buttons, and the verification result."""

from __future__ import annotations

from typing import Any

from blocks import ids
from blocks.text import BUTTON_TEXT_MAX, context, escape, plain, section, truncate
from bot.domain import AuditEntry, AuditPage

LINE_MAX = 190


def audit_page_blocks(page: AuditPage) -> list[dict[str, Any]]:
    lines = [_line(entry) for entry in page.entries] or ["Nothing matches."]
    blocks: list[dict[str, Any]] = [
        section(f"*Audit log: {escape(page.filters)}*\n" + "\n".join(lines)),
    ]
    buttons = [
        _button(label, action_id, value)
        for label, action_id, value in (
            ("Newest", ids.AUDIT_NEWEST, page.first),
            ("Older", ids.AUDIT_OLDER, page.older),
        )
        if value is not None
    ]
    if buttons:
        blocks.append({"type": "actions", "block_id": ids.AUDIT_ACTIONS_BLOCK, "elements": buttons})
    blocks.append(context("Newest first · times in UTC · `carapulse audit verify` checks the chain"))
    return blocks


def audit_page_text(page: AuditPage) -> str:
    return f"Audit log: {page.filters} ({len(page.entries)} events)"


def _line(entry: AuditEntry) -> str:
    where = []
    if entry.plan_id is not None:
        where.append(f"plan #{entry.plan_id}")
    if entry.execution_id is not None:
        where.append(f"execution {entry.execution_id}")
    actor = f"<@{entry.actor_id}>" if entry.actor_id[:1] in ("U", "W") else f"`{escape(entry.actor_id)}`"
    decided = f" · {entry.decision}" if entry.decision else ""
    why = f": {escape('; '.join(entry.reasons))}" if entry.reasons else ""
    text = f"`{entry.created_at:%Y-%m-%d %H:%M:%S}` *{entry.action}* {actor} {' '.join(where)}{decided}{why}"
    return truncate(text, LINE_MAX)


def _button(label: str, action_id: str, value: str) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "value": value, "text": plain(label, BUTTON_TEXT_MAX)}


def verification_text(*, events: int, streams: int, broken: str | None) -> str:
    """One line: the log holds together, or where it first does not (`broken` says where and why)."""
    if broken is not None:
        return f":rotating_light: The audit log is broken after checking {events} events: {broken}"
    return (
        f":white_check_mark: The audit log verifies: {events} events in {streams} streams, every link intact."
    )
