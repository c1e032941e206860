"""Hides secrets in tool output before it is stored, audited or shown in Slack.

Known token shapes (Slack, GitHub, GitLab, AWS, Vault, Carapulse API tokens, JWTs, private keys,
bearer headers, `password=`-style pairs) are always masked; a deployment adds its own literal secrets
and patterns.
Structured data is walked, and any value under a secret-sounding key is replaced whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MASK = "[redacted]"

_BUILT_IN_PATTERNS = (
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
    r"\bxox[abpres]-[A-Za-z0-9-]{10,}",
    r"\bxapp-[A-Za-z0-9-]{10,}",
    r"\bgh[pousr]_[A-Za-z0-9]{20,}",
    r"\bgithub_pat_[A-Za-z0-9_]{20,}",
    r"\bglpat-[A-Za-z0-9_-]{20,}",
    r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
    r"\bhv[sbr]\.[A-Za-z0-9_-]{20,}",
    r"\bcpt_[A-Za-z0-9_-]{32,}",
    r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    r"(?i)\b(?:bearer|token)\s+[A-Za-z0-9._~+/=-]{16,}",
)
# `password=hunter2`, `"api_key": "abc"`, `secret: xyz` — the value is masked, the key kept.
_ASSIGNMENT = re.compile(
    r"""(?ix)
    (?P<key>["']?[\w.-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)["']?)
    (?P<sep>\s*[:=]\s*)
    (?P<value>"[^"]*"|'[^']*'|[^\s,;}&)\]"'\\]+)
    """
)
SECRET_KEY = re.compile(
    r"(?i)(password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential)"
)


@dataclass(frozen=True)
class Redactor:
    """`literals` are exact secrets known to the service (its own tokens); `patterns` are extra
    regular expressions from configuration."""

    literals: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    _compiled: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = [re.compile(p) for p in (*_BUILT_IN_PATTERNS, *self.patterns)]
        object.__setattr__(self, "_compiled", tuple(compiled))

    @classmethod
    def with_secrets(cls, literals: Iterable[str | None], patterns: Iterable[str] = ()) -> Redactor:
        """Literal secrets shorter than 6 characters are ignored: masking "abc" everywhere would
        shred ordinary output and hide nothing worth hiding."""
        kept = tuple(sorted({s for s in literals if s and len(s) >= 6}, key=len, reverse=True))
        return cls(literals=kept, patterns=tuple(patterns))

    def redact(self, text: str) -> str:
        for literal in self.literals:
            text = text.replace(literal, MASK)
        for pattern in self._compiled:
            text = pattern.sub(MASK, text)
        return _ASSIGNMENT.sub(_mask_assignment, text)

    def redact_data(self, data: Any) -> Any:
        """A copy of `data` with strings redacted and values under secret-sounding keys masked."""
        if isinstance(data, str):
            return self.redact(data)
        if isinstance(data, Mapping):
            return {key: self._redact_item(key, item) for key, item in data.items()}
        if isinstance(data, list | tuple):
            return [self.redact_data(item) for item in data]
        return data

    def _redact_item(self, key: object, item: Any) -> Any:
        return MASK if _is_secret_key(key, item) else self.redact_data(item)


def _is_secret_key(key: object, item: Any) -> bool:
    """Scalars under a secret-sounding key are masked; containers are walked instead, so a
    `token_ttl: 3600` number or a `secrets: [...]` list of names is kept readable."""
    return isinstance(key, str) and isinstance(item, str) and bool(SECRET_KEY.search(key))


def _mask_assignment(match: re.Match[str]) -> str:
    quoted = match["value"][:1] if match["value"][:1] in "\"'" else ""
    return f"{match['key']}{match['sep']}{quoted}{MASK}{quoted}"
