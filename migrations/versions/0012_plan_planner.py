"""plan planner: which planner (and model) read a plan from text, and why the rules planner stood in

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("planner", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("planner_model", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("planner_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("planner_note")
        batch_op.drop_column("planner_model")
        batch_op.drop_column("planner")
