"""Small builders for domain objects that many tests need."""

from __future__ import annotations

from bot import planner, plans, policy
from bot.db.engine import SessionFactory
from bot.domain import Actor, PlanDraft

TEAM = "T0123ABCDEF"
ALICE = Actor(team_id=TEAM, user_id="U0123ALICE1")
BOB = Actor(team_id=TEAM, user_id="U0123BOBBY2")
CAROL = Actor(team_id=TEAM, user_id="U0123CAROL3")
READS = {"kubernetes.get_deployment", "kubernetes.rollout_status"}


def scale_draft(text: str = "scale checkout to 5 in shop") -> PlanDraft:
    return planner.plan(text, environment="prod")


async def stored_plan(
    sessions: SessionFactory,
    *,
    requester: Actor = ALICE,
    draft: PlanDraft | None = None,
    source_key: str = "trigger-1",
    reads: set[str] = READS,
) -> int:
    draft = draft or scale_draft()
    decision = policy.decide(requester=requester, steps=draft.steps, read_actions=reads)
    async with sessions.begin() as session:
        created = await plans.create(
            session,
            requester=requester,
            channel_id="C0123OPSCHN",
            source_key=source_key,
            draft=draft,
            decision=decision,
        )
    return created.plan.id
