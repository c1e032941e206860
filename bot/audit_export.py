"""Export a workspace's audit events between two moments as CSV and JSON Lines, sent to the
requester's direct messages; the policy decides who may (audit.export).

The events are read a page at a time by keyset on (created_at, id), oldest first, and written to two
files in a temporary directory as they come, so memory stays bounded however many there are; the
files are then streamed to Slack (bot.slack_files) and removed.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit_search, moments
from bot.audit_search import AuditFilter
from bot.db.models import AuditEvent
from bot.domain import Actor, AuditEntry
from bot.errors import UserError
from bot.operations import Runtime
from bot.slack_files import LocalFile

EXPORT_PAGE = 1000
USAGE = "Use `/carapulse audit export <from> <to>`, e.g. `/carapulse audit export 2026-11-01 2026-11-30`."
COLUMNS = (
    "id",
    "created_at",
    "team_id",
    "stream",
    "seq",
    "plan_id",
    "execution_id",
    "actor_id",
    "action",
    "decision",
    "reasons",
    "detail",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class Range:
    since: datetime
    until: datetime

    def words(self) -> str:
        return f"{self.since:%Y-%m-%d %H:%M} to {self.until:%Y-%m-%d %H:%M} UTC"


@dataclass(frozen=True)
class Exported:
    events: int
    files: list[LocalFile]


def parse_range(text: str, *, now: datetime) -> Range:
    """`2026-11-01 2026-11-30` → from the start of the first day to the end of the second."""
    words = text.split()
    if len(words) != 2:
        raise UserError(f"An export needs a start and an end. {USAGE}")
    since = moments.moment(words[0], now=now)
    until = moments.moment(words[1], now=now, end_of_day=True)
    if since >= until:
        raise UserError(f"The export starts at {since:%Y-%m-%d %H:%M} UTC, after it ends; swap them.")
    return Range(since=since, until=until)


async def export(runtime: Runtime, *, actor: Actor, period: Range) -> int:
    """Send the events of `period` to `actor`'s direct messages; how many there were (0: nothing sent)."""
    runtime.policy.require("audit.export", actor=actor)
    with tempfile.TemporaryDirectory(prefix="carapulse-audit-") as directory:
        async with runtime.sessions() as session:
            exported = await write(session, team_id=actor.team_id, period=period, directory=Path(directory))
        if exported.events:
            channel_id = await runtime.files.direct_channel(team_id=actor.team_id, user_id=actor.user_id)
            comment = f"Audit log of this workspace, {period.words()}: {exported.events} events."
            await runtime.files.share(
                exported.files, team_id=actor.team_id, channel_id=channel_id, comment=comment
            )
    return exported.events


async def write(
    session: AsyncSession, *, team_id: str, period: Range, directory: Path, page_size: int = EXPORT_PAGE
) -> Exported:
    """Write the team's events of `period`, oldest first, to a CSV and a JSON Lines file."""
    stem = f"audit-{team_id}-{period.since:%Y%m%dT%H%M}-{period.until:%Y%m%dT%H%M}"
    csv_file = LocalFile(directory / f"{stem}.csv", f"{stem}.csv", "Audit log (CSV)")
    jsonl_file = LocalFile(directory / f"{stem}.jsonl", f"{stem}.jsonl", "Audit log (JSON Lines)")
    events = 0
    with csv_file.path.open("w", newline="") as as_csv, jsonl_file.path.open("w") as as_jsonl:
        table = csv.writer(as_csv)
        table.writerow(COLUMNS)
        async for entry in _entries(session, team_id, period, page_size):
            table.writerow(_csv_row(entry))
            as_jsonl.write(entry.model_dump_json() + "\n")
            events += 1
    return Exported(events=events, files=[csv_file, jsonl_file])


async def _entries(
    session: AsyncSession, team_id: str, period: Range, page_size: int
) -> AsyncIterator[AuditEntry]:
    audit_filter = AuditFilter(since=period.since, until=period.until)
    query = audit_search.matching(team_id, audit_filter).order_by(AuditEvent.created_at, AuditEvent.id)
    after: tuple[datetime, int] | None = None
    while True:
        page = query if after is None else query.where(tuple_(AuditEvent.created_at, AuditEvent.id) > after)
        rows = (await session.execute(page.limit(page_size))).all()
        for row in rows:
            yield audit_search.entry(row)
        if len(rows) < page_size:
            return
        after = (rows[-1].created_at, rows[-1].id)


def _csv_row(entry: AuditEntry) -> list[object]:
    return [
        entry.id,
        entry.created_at.isoformat(),
        entry.team_id,
        entry.stream,
        entry.seq,
        "" if entry.plan_id is None else entry.plan_id,
        "" if entry.execution_id is None else entry.execution_id,
        entry.actor_id,
        entry.action,
        entry.decision,
        json.dumps(entry.reasons),
        json.dumps(entry.detail, sort_keys=True, separators=(",", ":")),
        entry.prev_hash,
        entry.hash,
    ]
