"""One sentence from a pydantic ValidationError, for answers that must fit on one line."""

from __future__ import annotations

from pydantic import ValidationError

# A location deeper than this shows its first and last parts only (deeply nested input).
MAX_LOCATION_PARTS = 8


def first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    parts = [str(part) for part in error["loc"]]
    if len(parts) > MAX_LOCATION_PARTS:
        half = MAX_LOCATION_PARTS // 2
        parts = [*parts[:half], "…", *parts[-half:]]
    where = ".".join(parts) or "input"
    more = exc.error_count() - 1
    return f"{where}: {error['msg']}" + (f" (and {more} more)" if more else "")
