"""Tampering with the audit log as someone who may change the schema would: the append-only
triggers of migration 0015 go first, and only then can a row be edited or removed. Tests that show
what `verify` finds use this; that they must is what the triggers are for."""

from __future__ import annotations

from sqlalchemy import text

from bot.db.engine import SessionFactory

_POSTGRES = (
    "DROP TRIGGER audit_events_no_truncate ON audit_events",
    "DROP TRIGGER audit_events_append_only ON audit_events",
)
_SQLITE = ("DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete")


async def drop_append_only_guard(sessions: SessionFactory) -> None:
    async with sessions.begin() as session:
        postgres = session.bind.dialect.name == "postgresql"
        for statement in _POSTGRES if postgres else _SQLITE:
            await session.execute(text(statement))
