"""audit search and the append-only guard: indexes for paging a workspace's events by time (and by
actor), and triggers that refuse to UPDATE or DELETE an audit event (PostgreSQL also TRUNCATE).

The chain shows tampering after the fact; the triggers stop a bug or a stray statement from doing it
at all. Someone who can drop a trigger can still tamper, which `carapulse audit verify` then finds.
On SQLite a batch (copy-and-rename) alteration of audit_events drops its triggers: a later migration
that alters the table that way must create them again.

Revision ID: 0015
Revises: 0008
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSAL = "audit_events is append-only"

_POSTGRES_GUARD = (
    f"""
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{_REFUSAL}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
    """,
    """
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
    """,
)
_POSTGRES_UNGUARD = (
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
    "DROP FUNCTION IF EXISTS audit_events_append_only()",
)
_SQLITE_GUARD = tuple(
    f"""
    CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events
    BEGIN SELECT RAISE(ABORT, '{_REFUSAL}: {verb} refused'); END
    """
    for verb in ("UPDATE", "DELETE")
)
_SQLITE_UNGUARD = (
    "DROP TRIGGER IF EXISTS audit_events_no_update",
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
)


def upgrade() -> None:
    op.create_index("ix_audit_events_time", "audit_events", ["team_id", "created_at", "id"])
    op.create_index("ix_audit_events_actor", "audit_events", ["team_id", "actor_id", "created_at", "id"])
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRES_GUARD if postgres else _SQLITE_GUARD:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRES_UNGUARD if postgres else _SQLITE_UNGUARD:
        op.execute(statement)
    op.drop_index("ix_audit_events_actor", table_name="audit_events")
    op.drop_index("ix_audit_events_time", table_name="audit_events")
