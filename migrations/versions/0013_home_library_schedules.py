"""operator notes, runbooks (with their alert links), playbooks, schedules and schedule runs; and an
index for each user's recent plans, which the App Home lists

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), autoincrement=True, nullable=False)


def _team() -> sa.Column:
    return sa.Column("team_id", sa.String(length=32), nullable=False)


def _library_columns() -> list[sa.Column]:
    """What runbooks and playbooks share: where they came from, their version, who last saved them."""
    return [
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    ]


def upgrade() -> None:
    op.create_index("ix_plans_team_requester", "plans", ["team_id", "requester_id", "id"])
    op.create_table(
        "operator_notes",
        _id(),
        _team(),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_operator_notes_team", "operator_notes", ["team_id", "id"])
    op.create_index("ix_operator_notes_team_service", "operator_notes", ["team_id", "service", "id"])
    op.create_table(
        "runbooks",
        _id(),
        _team(),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=150), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("workflow_name", sa.String(length=64), nullable=True),
        sa.Column("workflow_inputs", sa.JSON(), nullable=False),
        *_library_columns(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "service", "title", name="uq_runbooks_team_service_title"),
    )
    op.create_table(
        "runbook_alerts",
        _id(),
        _team(),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("alertname", sa.String(length=128), nullable=False),
        sa.Column("runbook_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["runbook_id"], ["runbooks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "service", "alertname", name="uq_runbook_alerts_team_service_alert"),
    )
    op.create_index("ix_runbook_alerts_runbook_id", "runbook_alerts", ["runbook_id"])
    op.create_table(
        "playbooks",
        _id(),
        _team(),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        *_library_columns(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "name", name="uq_playbooks_team_name"),
    )
    op.create_table(
        "schedules",
        _id(),
        _team(),
        sa.Column("cron", sa.String(length=120), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", _TIME, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_schedules_team", "schedules", ["team_id", "id"])
    op.create_index("ix_schedules_team_next", "schedules", ["team_id", "next_run_at"])
    op.create_index("ix_schedules_next", "schedules", ["next_run_at"])
    op.create_table(
        "schedule_runs",
        _id(),
        _team(),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("due_at", _TIME, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=False),
        sa.Column("lease_expires_at", _TIME, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(["schedule_id"], ["schedules.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("schedule_id", "due_at", name="uq_schedule_runs_due"),
    )
    op.create_index("ix_schedule_runs_history", "schedule_runs", ["schedule_id", "id"])
    op.create_index("ix_schedule_runs_lease", "schedule_runs", ["state", "lease_expires_at"])


def downgrade() -> None:
    op.drop_table("schedule_runs")
    op.drop_table("schedules")
    op.drop_table("playbooks")
    op.drop_table("runbook_alerts")
    op.drop_table("runbooks")
    op.drop_table("operator_notes")
    op.drop_index("ix_plans_team_requester", table_name="plans")
