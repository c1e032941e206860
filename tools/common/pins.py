"""Values a plan pinned when it was made: what its dry run read (a git commit, a Helm revision, an
S3 object version, an Argo CD revision) travels in the step's arguments, and the step refuses to
apply once the live value has moved, instead of applying something nobody saw."""

from __future__ import annotations

from tools.common.base import ToolError


def require_unmoved(what: str, *, pinned: object | None, live: object, call: str) -> None:
    """Raise unless `live` is still what the plan pinned; nothing pinned (None) always passes."""
    if pinned is not None and pinned != live:
        raise ToolError(
            f"{what} changed since the plan was made (pinned {pinned}, now {live}); make a new plan",
            call=call,
        )
