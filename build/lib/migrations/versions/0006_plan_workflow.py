"""plan workflow: which workflow and version a plan was made from, and the override file if any

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("workflow_name", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("workflow_version", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("workflow_override", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("workflow_override")
        batch_op.drop_column("workflow_version")
        batch_op.drop_column("workflow_name")
