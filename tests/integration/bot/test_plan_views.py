"""What a plan view shows: secret-looking arguments masked, while the stored steps keep them to run."""

from __future__ import annotations

from bot import plan_views, plans
from bot.db.engine import SessionFactory
from bot.db.models import Plan
from bot.domain import StepSpec, StepStage
from tests.builders import TEAM, scale_draft, stored_plan


async def test_secret_looking_arguments_are_masked_in_the_view_only(sessions: SessionFactory) -> None:
    write = StepSpec(
        stage=StepStage.ACT,
        action="vault.write_secret",
        args={"path": "db/creds", "data": {"password": "hunter2", "user": "app"}},
        description="write the database credentials",
    )
    plan_id = await stored_plan(sessions, draft=(await scale_draft()).model_copy(update={"steps": [write]}))

    async with sessions() as session:
        view = await plan_views.load(session, team_id=TEAM, plan_id=plan_id)
        facts = await plans.plan_facts(session, await session.get_one(Plan, plan_id))

    assert view.steps[0].args == {"path": "db/creds", "data": {"password": "[redacted]", "user": "app"}}
    assert facts.steps[0].args["data"]["password"] == "hunter2"
