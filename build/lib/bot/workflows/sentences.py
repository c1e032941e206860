"""Plain sentences the rules planner reads as a workflow request: a pattern whose named groups are
the workflow's inputs, plus inputs the sentence implies (`scale asg …` means kind=asg)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

NAME = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"


@dataclass(frozen=True)
class Sentence:
    pattern: re.Pattern[str]
    implied: Mapping[str, str] = field(default_factory=dict)

    def read(self, normalized: str) -> dict[str, str] | None:
        """The inputs this sentence gives, or None when `normalized` is not this sentence."""
        match = self.pattern.match(normalized)
        if match is None:
            return None
        given = {name: value for name, value in match.groupdict().items() if value is not None}
        return {**self.implied, **given}


def sentence(pattern: str, **implied: str) -> Sentence:
    """A sentence matched whole against lower-cased text with single spaces."""
    return Sentence(re.compile(rf"^{pattern}$"), implied)


def named(group: str, pattern: str = NAME) -> str:
    """A named group for one input; `pattern` must not capture anything itself."""
    return rf"(?P<{group}>{pattern})"
