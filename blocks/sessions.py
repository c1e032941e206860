"""Change sessions in Slack: the message that announces one (with its buttons), its status, the
modals that start one and set its members, and its timeline when it ends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from blocks import ids
from blocks.forms import button, modal, text_input
from blocks.labels import PLAN_STATUS_LABELS
from blocks.text import context, literal, plain, section, slack_date, user
from blocks.timeline import entry_line, messages
from bot.domain import SessionRole, SessionView, TimelineEntry

NAME_MAX_LENGTH = 80
ROLE_HINTS = {
    SessionRole.LEAD: "Runs the session: decides, sets its members, ends it.",
    SessionRole.OPERATOR: "Hands on the keyboard: requests and runs the changes.",
    SessionRole.COMMS: "Keeps stakeholders and the status page informed.",
    SessionRole.SCRIBE: "Keeps the notes.",
    SessionRole.OBSERVER: "Follows along.",
}
ROLE_LABELS = {
    SessionRole.LEAD: "Lead",
    SessionRole.OPERATOR: "Operators",
    SessionRole.COMMS: "Comms",
    SessionRole.SCRIBE: "Scribes",
    SessionRole.OBSERVER: "Observers",
}


def role_block(role: SessionRole) -> str:
    return f"{ids.SESSION_ROLE_BLOCK_PREFIX}{role.value}"


def session_started(view: SessionView) -> tuple[str, list[dict[str, Any]]]:
    """Posted where the session is: what it is, who is in it, and the buttons to run it."""
    text = f"Change session “{literal(view.name)}” started by {user(view.started_by)}"
    blocks = [
        section(f":construction: *Change session: {literal(view.name)}*\nStarted by {user(view.started_by)}"),
        section(_members_text(view)),
        context("Plans made here belong to the session; ending it posts its timeline here."),
        {
            "type": "actions",
            "elements": [
                button("Members and roles", ids.SESSION_MEMBERS, str(view.id)),
                _end_button(view),
            ],
        },
    ]
    return text, blocks


def session_status(view: SessionView) -> tuple[str, list[dict[str, Any]]]:
    text = f"Change session “{literal(view.name)}”"
    blocks = [
        section(
            f"*Change session: {literal(view.name)}*\n"
            f"Started {slack_date(view.started_at)} by {user(view.started_by)}"
        ),
        section(_members_text(view)),
        section(_plans_text(view)),
    ]
    return text, blocks


def members_changed(view: SessionView, joined: Sequence[tuple[str, SessionRole]], left: Sequence[str]) -> str:
    if not joined and not left:
        return f"The members of “{literal(view.name)}” are unchanged."
    lines = [f"Members of “{literal(view.name)}” changed:"]
    lines += [f"• {user(user_id)} joined as {role.value}" for user_id, role in joined]
    lines += [f"• {user(user_id)} left their role" for user_id in left]
    return "\n".join(lines)


def session_modal(
    *,
    callback_id: str,
    metadata: dict[str, Any],
    members: Mapping[str, SessionRole],
    name: str | None = None,
) -> dict[str, Any]:
    """The start modal (with a name field: `name` not None) or the members modal; each role a user
    picker holding `members` as they stand."""
    blocks = []
    if name is not None:
        blocks.append(
            text_input(
                ids.SESSION_NAME_BLOCK,
                "Session name",
                initial=name,
                max_length=NAME_MAX_LENGTH,
                placeholder="checkout database migration",
            )
        )
    blocks += [_role_input(role, [u for u, r in members.items() if r == role]) for role in SessionRole]
    starting = name is not None
    return modal(
        callback_id=callback_id,
        title="Start a change session" if starting else "Session members",
        submit="Start" if starting else "Save",
        metadata=metadata,
        blocks=blocks,
    )


def timeline_messages(
    view: SessionView, entries: list[TimelineEntry]
) -> list[tuple[str, list[dict[str, Any]]]]:
    """The timeline in as many messages as it takes (each message's text names its part), the
    plans as they stand at the end."""
    title = f"*Timeline of change session “{literal(view.name)}”*"
    parts = messages(title, [entry_line(entry, with_date=True) for entry in entries])
    # Where each plan ended up, after the story of how it got there.
    parts[-1].append(section(_plans_text(view)))
    headline = f"Timeline of change session “{literal(view.name)}”"
    if len(parts) == 1:
        return [(headline, parts[0])]
    return [(f"{headline} ({n} of {len(parts)})", part) for n, part in enumerate(parts, start=1)]


def _role_input(role: SessionRole, users: list[str]) -> dict[str, Any]:
    single = role == SessionRole.LEAD
    element: dict[str, Any] = {
        "type": "users_select" if single else "multi_users_select",
        "action_id": ids.FIELD_INPUT,
    }
    if single and users:
        element["initial_user"] = users[0]
    elif users:
        element["initial_users"] = users
    return {
        "type": "input",
        "block_id": role_block(role),
        "label": plain(ROLE_LABELS[role], 2000),
        "hint": plain(ROLE_HINTS[role], 2000),
        "optional": not single,
        "element": element,
    }


def _members_text(view: SessionView) -> str:
    lines = []
    for role in SessionRole:
        holders = [user(member.user_id) for member in view.members if member.role == role]
        if holders:
            lines.append(f"*{ROLE_LABELS[role]}:* {', '.join(holders)}")
    return "\n".join(lines) or "*Members:* nobody"


def _plans_text(view: SessionView) -> str:
    if not view.plans:
        return "*Plans:* none. Plans requested in the session's channel (or thread) join it."
    lines = [f"*Plans ({view.plans_total})*"]
    for plan in view.plans:
        approved = f", approved by {', '.join(user(u) for u in plan.approvers)}" if plan.approvers else ""
        lines.append(f"• #{plan.id} {literal(plan.summary)}: {PLAN_STATUS_LABELS[plan.status]}{approved}")
    if view.plans_total > len(view.plans):
        lines.append(f"… and {view.plans_total - len(view.plans)} more")
    return "\n".join(lines)


def _end_button(view: SessionView) -> dict[str, Any]:
    end = button("End session", ids.SESSION_END, str(view.id), style="danger")
    end["confirm"] = {
        "title": plain("End the session?", 100),
        "text": plain(
            f"Its timeline will be posted here and plans made here will no longer join “{view.name}”.", 300
        ),
        "confirm": plain("End it", 30),
        "deny": plain("Keep it", 30),
    }
    return end
