"""Tables of change sessions: a channel or thread declared a change or incident session, who is in it
with which role, and the plans made in it. Every row carries its workspace's team id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models import Base, TeamId, UserId


class ChangeSession(Base):
    """A channel (thread_ts NULL) or a thread declared a session from its start until its end.

    `open_key` is `<channel>:<thread ts or nothing>` while the session is open and NULL once it
    has ended: the unique constraint on it lets one session be open per channel or thread, however
    many requests race.
    """

    __tablename__ = "change_sessions"
    __table_args__ = (
        UniqueConstraint("team_id", "open_key", name="uq_change_sessions_open"),
        Index("ix_change_sessions_place", "team_id", "channel_id", "thread_ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    name: Mapped[str] = mapped_column(String(80))
    channel_id: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    open_key: Mapped[str | None] = mapped_column(String(80))
    started_by: Mapped[str] = mapped_column(UserId)
    started_at: Mapped[datetime]
    ended_by: Mapped[str | None] = mapped_column(UserId)
    ended_at: Mapped[datetime | None]


class ChangeSessionMember(Base):
    """One person holding one role in a session for a while: a role change ends the row (`left_at`)
    and starts another, so the timeline can say who joined, as what, and when they left."""

    __tablename__ = "change_session_members"
    __table_args__ = (Index("ix_change_session_members_session", "session_id", "left_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    session_id: Mapped[int] = mapped_column(ForeignKey("change_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(UserId)
    role: Mapped[str] = mapped_column(String(16))
    added_by: Mapped[str] = mapped_column(UserId)
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(UserId)


class ChangeSessionPlan(Base):
    """A plan made in a session's channel or thread, linked when the plan was created."""

    __tablename__ = "change_session_plans"
    __table_args__ = (UniqueConstraint("plan_id", name="uq_change_session_plans_plan"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    session_id: Mapped[int] = mapped_column(ForeignKey("change_sessions.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    linked_at: Mapped[datetime]
