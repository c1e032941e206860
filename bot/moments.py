"""Moments and lengths of time as people type them: `30m`, `2h`, `7d`, `2026-11-01`, or an ISO
timestamp (UTC unless it names an offset)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from bot.errors import UserError

_DURATION = re.compile(r"^(?P<amount>\d{1,6})(?P<unit>[mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
FORMS = "`30m`, `2h`, `7d`, `2026-11-01` or `2026-11-01T14:00`"


def duration(text: str) -> timedelta | None:
    """`2h` → 2 hours; None when `text` is not a duration."""
    match = _DURATION.match(text.strip().lower())
    if match is None:
        return None
    return timedelta(**{_UNITS[match["unit"]]: int(match["amount"])})


def moment(text: str, *, now: datetime, end_of_day: bool = False) -> datetime:
    """A moment: a duration counts back from `now`; a bare date is its start (its end, the start of
    the next day, when `end_of_day`). Raises UserError naming the text and the forms it may take."""
    length = duration(text)
    if length is not None:
        return now - length
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"`{text}` is not a time; use {FORMS}.") from None
    if len(text.strip()) == 10 and end_of_day:
        parsed = datetime.combine(parsed.date() + timedelta(days=1), time())
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
