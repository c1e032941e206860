"""What a `carapulse` command printed on stderr before it refused: start-up's log lines (tool status,
schema upgrades), then the one line of the refusal."""

from __future__ import annotations


def refusal(stderr: str) -> str:
    """The last line, once nothing before it is a traceback or another refusal."""
    *logged, last = stderr.strip().splitlines()
    assert not any(line.startswith(("Traceback", "carapulse: ")) for line in logged), logged
    return last
