"""audit streams: the one hash chain per team becomes one chain per stream (the team, each plan,
each execution), each with a head row, so workers running different executions never wait on one
lock. The existing events become the start of their team's `team` stream, unchanged: their hashes
and links stay valid, because neither the stream nor the position is part of an event's hash.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Numbers each team's events in the order the old chain linked them (by id).
_NUMBER_EXISTING_EVENTS = """
UPDATE audit_events SET stream = 'team', seq = numbered.n
FROM (SELECT id, row_number() OVER (PARTITION BY team_id ORDER BY id) AS n FROM audit_events) AS numbered
WHERE audit_events.id = numbered.id
"""
_HEAD_OF_EACH_TEAM = """
INSERT INTO audit_chains (team_id, stream, seq, head_hash)
SELECT team_id, stream, seq, hash FROM audit_events AS last
WHERE seq = (SELECT max(seq) FROM audit_events AS e WHERE e.team_id = last.team_id)
"""


def upgrade() -> None:
    op.create_table(
        "audit_chains",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("stream", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "stream"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stream", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
    op.execute(_NUMBER_EXISTING_EVENTS)
    op.execute(_HEAD_OF_EACH_TEAM)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("stream", existing_type=sa.String(length=40), nullable=False)
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint("uq_audit_events_chain", type_="unique")
        batch_op.create_unique_constraint("uq_audit_events_stream_seq", ["team_id", "stream", "seq"])


def downgrade() -> None:
    """Only while every event is still in a `team` stream: the old schema has one chain per team,
    and events of plan and execution streams cannot join it without rewriting their hashes."""
    streams = op.get_bind().execute(sa.text("SELECT count(*) FROM audit_events WHERE stream != 'team'"))
    if streams.scalar():
        raise RuntimeError(
            "cannot downgrade below 0008: audit events were written to plan or "
            "execution streams, which the single per-team chain before 0008 cannot hold"
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_audit_events_stream_seq", type_="unique")
        batch_op.create_unique_constraint("uq_audit_events_chain", ["team_id", "prev_hash"])
        batch_op.drop_column("seq")
        batch_op.drop_column("stream")
    op.drop_table("audit_chains")
