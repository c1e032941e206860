"""break-glass: who forced a blocked or under-approved plan through, when, and why

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("break_glass_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("break_glass_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("break_glass_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("break_glass_at")
        batch_op.drop_column("break_glass_reason")
        batch_op.drop_column("break_glass_by")
