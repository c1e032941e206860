"""Names people type for services and playbooks, checked one way everywhere."""

from __future__ import annotations

import re

from bot.errors import UserError

MAX_NAME_LENGTH = 64
MAX_PLAYBOOK_LENGTH = 48
_NAME = re.compile(r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$")


def service(raw: str) -> str:
    """A service as the plans name their target (`checkout`, `payments-api`), lower-cased."""
    return _checked(raw, "a service name", "checkout or payments-api")


def playbook(raw: str) -> str:
    """Shorter than a service: a playbook's plans name it as `playbook:<name>` where workflows go."""
    return _checked(raw, "a playbook name", "drain-node or restart-workers", longest=MAX_PLAYBOOK_LENGTH)


def _checked(raw: str, what: str, example: str, *, longest: int = MAX_NAME_LENGTH) -> str:
    name = raw.strip().lower()
    if not name or len(name) > longest or not _NAME.match(name):
        shown = raw.strip()[:40] or "nothing"
        raise UserError(
            f"`{shown}` is not {what}: use up to {longest} lower-case letters, digits, "
            f"`.`, `_` or `-`, like {example}."
        )
    return name
