"""A timeline (an incident's, a change session's) as mrkdwn lines, packed into sections and, when
long, into several messages, each within Slack's limits.

Entry texts may hold untrusted words (alert titles, step output): they go out through `literal`.
"""

from __future__ import annotations

from typing import Any

from blocks.text import SECTION_TEXT_MAX, literal, section, truncate, user
from bot.domain import TimelineEntry

# Well under the 50 blocks of a message, leaving room for a title and buttons; ten full sections are
# 30,000 characters, under the 40,000 Slack keeps of a message.
SECTIONS_PER_MESSAGE = 10


def entry_line(entry: TimelineEntry, *, with_date: bool = False) -> str:
    stamp = f"{entry.at:%Y-%m-%d %H:%M:%S}" if with_date else f"{entry.at:%H:%M:%S}"
    return f"`{stamp}` {entry_text(entry)}"


def entry_text(entry: TimelineEntry) -> str:
    """Slack users are mentioned; anyone else (a GitHub login, Alertmanager) is named as text."""
    if is_slack_user(entry.actor):
        return f"{literal(entry.text)} ({user(entry.actor)})"
    by = f" (by {literal(entry.actor)})" if entry.actor and entry.actor != "alertmanager" else ""
    return f"{literal(entry.text)}{by}"


def is_slack_user(actor: str) -> bool:
    return actor[:1] in ("U", "W") and actor.isalnum() and actor.isupper() and len(actor) >= 9


def sections(title: str, lines: list[str]) -> list[dict[str, Any]]:
    """Sections of whole lines, the first starting with `title`, each under Slack's section limit."""
    blocks, current = [], title
    for line in lines:
        if len(current) + 1 + len(line) > SECTION_TEXT_MAX:
            blocks.append(section(current))
            current = ""
        current = f"{current}\n{line}" if current else truncate(line, SECTION_TEXT_MAX)
    blocks.append(section(current))
    return blocks


def messages(title: str, lines: list[str]) -> list[list[dict[str, Any]]]:
    """The sections of `sections(title, lines)` split into messages of SECTIONS_PER_MESSAGE."""
    packed = sections(title, lines)
    return [packed[n : n + SECTIONS_PER_MESSAGE] for n in range(0, len(packed), SECTIONS_PER_MESSAGE)]
