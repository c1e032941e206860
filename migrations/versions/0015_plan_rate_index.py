"""an index for PLAN_RATE_LIMIT, which counts the plans one person asked for in a recent window.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_plans_team_requester_created", "plans", ["team_id", "requester_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_plans_team_requester_created", table_name="plans")
