"""Names people type for services and playbooks, checked one way everywhere."""

from __future__ import annotations

import re

from bot.errors import UserError

MAX_NAME_LENGTH = 64
_NAME = re.compile(r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$")


def service(raw: str) -> str:
    """A service as the plans name their target (`checkout`, `payments-api`), lower-cased."""
    return _checked(raw, "a service name", "checkout or payments-api")


def playbook(raw: str) -> str:
    return _checked(raw, "a playbook name", "drain-node or restart-workers")


def _checked(raw: str, what: str, example: str) -> str:
    name = raw.strip().lower()
    if not name or len(name) > MAX_NAME_LENGTH or not _NAME.match(name):
        shown = raw.strip()[:40] or "nothing"
        raise UserError(
            f"`{shown}` is not {what}: use up to {MAX_NAME_LENGTH} lower-case letters, digits, "
            f"`.`, `_` or `-`, like {example}."
        )
    return name
