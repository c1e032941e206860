"""audit search and the append-only guard: indexes for paging a workspace's events by time (and by
actor), and triggers that refuse to UPDATE or DELETE an audit event (PostgreSQL also TRUNCATE); the
context graph's snapshots, nodes and edges, and the leases that let one replica collect it.

The chain shows tampering after the fact; the triggers stop a bug or a stray statement from doing it
at all. Someone who can drop a trigger can still tamper, which `carapulse audit verify` then finds.
On SQLite a batch (copy-and-rename) alteration of audit_events drops its triggers: a later migration
that alters the table that way must create them again.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
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
    _create_context_tables()


def _create_context_tables() -> None:
    op.create_table(
        "context_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("node_count", sa.Integer(), nullable=False),
        sa.Column("edge_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_context_snapshots_team_time", "context_snapshots", ["team_id", "taken_at"])
    op.create_table(
        "context_nodes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("namespace", sa.String(length=63), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["snapshot_id"], ["context_snapshots.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("snapshot_id", "key", name="uq_context_nodes_key"),
    )
    op.create_index("ix_context_nodes_name", "context_nodes", ["snapshot_id", "name"])
    op.create_table(
        "context_edges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=512), nullable=False),
        sa.Column("target", sa.String(length=512), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["snapshot_id"], ["context_snapshots.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_context_edges_source", "context_edges", ["snapshot_id", "source"])
    op.create_index("ix_context_edges_target", "context_edges", ["snapshot_id", "target", "relation"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_index("ix_context_edges_target", table_name="context_edges")
    op.drop_index("ix_context_edges_source", table_name="context_edges")
    op.drop_table("context_edges")
    op.drop_index("ix_context_nodes_name", table_name="context_nodes")
    op.drop_table("context_nodes")
    op.drop_index("ix_context_snapshots_team_time", table_name="context_snapshots")
    op.drop_table("context_snapshots")
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRES_UNGUARD if postgres else _SQLITE_UNGUARD:
        op.execute(statement)
    op.drop_index("ix_audit_events_actor", table_name="audit_events")
    op.drop_index("ix_audit_events_time", table_name="audit_events")
