"""The context graph in Slack: one service's context, what changed around it, and a refresh."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from blocks.text import context, escape, section, truncate
from bot.domain import ContextDiff, RelatedNode, ServiceContext

LIST_MAX = 12
LINE_MAX = 200


def service_context_blocks(view: ServiceContext) -> list[dict[str, Any]]:
    facts = [
        f"*{escape(view.name)}*" + (f" in {escape(view.environment)}" if view.environment else ""),
        f"*Owner:* {escape(view.owner) if view.owner else 'unknown'}"
        + (f" · incidents go to <#{view.channel}>" if view.channel else ""),
        f"*Runs on:* {_related(view.runs_on)}",
        f"*Depends on:* {_names(view.depends_on)}",
        f"*Depended on by:* {_names(view.dependents)}"
        + (f" ({len(view.dependents)} services)" if len(view.dependents) > 1 else ""),
        f"*Exposed by:* {_related(view.exposed_by)}",
        f"*Deployed by:* {_related(view.deployed_by)}",
        f"*Firing alerts:* {_related(view.alerts)}",
    ]
    changes = [
        f"• plan #{c.plan_id} {escape(c.summary)} ({c.status.replace('_', ' ')}, {_date(c.created_at)})"
        for c in view.recent_changes
    ]
    blocks = [
        section("\n".join(facts)),
        section("*Recent changes*\n" + ("\n".join(changes) or "none planned through Carapulse")),
        context(
            f"Snapshot of {_date(view.snapshot_taken_at)}, checked {_date(view.snapshot_checked_at)} · "
            + escape("; ".join(view.notes) or "no sources")
        ),
    ]
    return blocks


def context_diff_blocks(diff: ContextDiff) -> list[dict[str, Any]]:
    lines = [f"*{escape(diff.service)}: what changed from {_date(diff.since)} to {_date(diff.until)}*"]
    lines += [f"+ {escape(line)}" for line in diff.added[:LIST_MAX]]
    lines += [f"- {escape(line)}" for line in diff.removed[:LIST_MAX]]
    lines += [f"~ {escape(line)}" for line in diff.changed[:LIST_MAX]]
    if len(lines) == 1:
        lines.append("Nothing changed around it.")
    hidden = sum(max(0, len(group) - LIST_MAX) for group in (diff.added, diff.removed, diff.changed))
    blocks = [section("\n".join(truncate(line, LINE_MAX) for line in lines))]
    if hidden:
        blocks.append(context(f"{hidden} more changes not shown"))
    return blocks


def _related(nodes: list[RelatedNode]) -> str:
    if not nodes:
        return "nothing known"
    shown = [escape(n.label) + (f" ({escape(n.detail)})" if n.detail else "") for n in nodes[:LIST_MAX]]
    more = f" and {len(nodes) - LIST_MAX} more" if len(nodes) > LIST_MAX else ""
    return truncate(", ".join(shown), 900) + more


def _names(names: list[str]) -> str:
    if not names:
        return "nothing known"
    more = f" and {len(names) - LIST_MAX} more" if len(names) > LIST_MAX else ""
    return ", ".join(f"`{escape(name)}`" for name in names[:LIST_MAX]) + more


def _date(moment: datetime) -> str:
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"
