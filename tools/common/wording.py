"""How counts, lists, durations and instants read in a one-line summary on a plan card. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime


def count(n: int, noun: str, plural: str | None = None) -> str:
    """1 alert, 3 alerts, 2 series (`plural` for nouns that do not take an s)."""
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"


def listing(items: Sequence[str], shown: int = 3) -> str:
    """The first `shown` items, and how many more there are."""
    more = len(items) - shown
    return ", ".join(items[:shown]) + (f" and {more} more" if more > 0 else "")


def duration_words(seconds: float) -> str:
    """5400 → "1h30m", 90 → "1m30s", 2.5 → "2.5s": the way PromQL and Alertmanager write durations."""
    if seconds < 60 and not float(seconds).is_integer():
        return f"{seconds:g}s"
    whole = round(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, whole = divmod(whole, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0s"


def utc_clock(moment: float | datetime) -> str:
    """12:03:10 UTC, from a Unix timestamp or an aware datetime."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).strftime("%H:%M:%S UTC")
