"""What runbooks and playbooks share: rows read from LIBRARY_DIR belong to every workspace this
deployment serves (team id FILES_TEAM) and are changed in git, not in Slack; rows written in Slack
belong to their workspace and count their own versions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from bot.errors import Conflict

# The team id of rows read from files: deployment configuration, like the workflows and the policy.
FILES_TEAM = "*"
SLACK_VERSION_PREFIX = "v"


def visible_to(team_column: Any, team_id: str) -> ColumnElement[bool]:
    """Rows a workspace may read: its own and this deployment's files."""
    return team_column.in_((team_id, FILES_TEAM))


def next_version(current: str | None) -> str:
    """Slack edits count up: v1, v2, ..."""
    if current is None or not current.startswith(SLACK_VERSION_PREFIX):
        return f"{SLACK_VERSION_PREFIX}1"
    return f"{SLACK_VERSION_PREFIX}{int(current.removeprefix(SLACK_VERSION_PREFIX) or 0) + 1}"


def require_editable(what: str, source: str, version: str) -> None:
    if source:
        raise Conflict(
            f"{what} comes from `{source}` (version {version[:12]}); change it there and redeploy."
        )
