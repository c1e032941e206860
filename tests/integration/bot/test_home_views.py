from datetime import UTC, datetime

from bot import home_views, plans
from bot.db.engine import SessionFactory
from bot.db.models import Approval
from bot.domain import Actor, PlanStatus
from bot.policy_engine import EnvironmentConfig, MaintenanceWindow
from tests.builders import ALICE, BOB, CAROL, POLICY, TEAM, policy, start_first_step, stored_plan

OTHER = Actor(team_id="T0999OTHER9", user_id="U0999OTHER9")
NOW = datetime(2026, 12, 4, 23, 0, tzinfo=UTC)


async def _home(sessions: SessionFactory, user_id: str, **pages: int) -> home_views.HomeView:
    async with sessions() as session:
        return await home_views.load(
            session, team_id=TEAM, user_id=user_id, policy=POLICY, pages=pages, now=NOW
        )


async def test_a_plan_waits_for_each_approver_who_has_not_approved_it_as_it_is_now(
    sessions: SessionFactory,
) -> None:
    plan_id = await stored_plan(sessions, source_key="one")
    await stored_plan(sessions, requester=OTHER, source_key="theirs")
    async with sessions.begin() as session:
        plan = await plans.get(session, team_id=TEAM, plan_id=plan_id)
        for user_id, plan_hash in ((BOB.user_id, plan.plan_hash), (CAROL.user_id, "an older version")):
            session.add(
                Approval(
                    team_id=TEAM,
                    plan_id=plan_id,
                    user_id=user_id,
                    decision="approve",
                    plan_hash=plan_hash,
                    created_at=NOW,
                )
            )

    bob, carol, alice = [await _home(sessions, who.user_id) for who in (BOB, CAROL, ALICE)]

    assert bob.pending == []
    assert [p.id for p in carol.pending] == [plan_id]
    assert alice.pending == [] and [p.id for p in alice.mine] == [plan_id]


async def test_running_plans_show_how_many_steps_are_done(sessions: SessionFactory) -> None:
    runs = policy(roles={"U0123ALICE1": ["operator", "approver"], "U0123BOBBY2": ["approver"]})
    plan_id = await stored_plan(sessions, using=runs)
    async with sessions.begin() as session:
        await plans.approve(session, plan_id=plan_id, approver=BOB, policy=runs)
    async with sessions.begin() as session:
        await start_first_step(session, owner="w")

    home = await _home(sessions, CAROL.user_id)

    [running] = home.running
    assert (running.id, running.steps_done, running.steps_total > 1) == (plan_id, 0, True)
    assert running.status == PlanStatus.RUNNING


async def test_each_list_pages_on_its_own_and_only_a_workspaces_own_plans_are_listed(
    sessions: SessionFactory,
) -> None:
    for n in range(7):
        await stored_plan(sessions, source_key=f"ours-{n}")
        await stored_plan(sessions, requester=OTHER, source_key=f"theirs-{n}")

    first = await _home(sessions, ALICE.user_id)
    second = await _home(sessions, ALICE.user_id, mine=1)
    bob = await _home(sessions, BOB.user_id, pending=1)

    assert len(first.mine) == 5 and first.pages["mine"].has_more
    assert len(second.mine) == 2 and not second.pages["mine"].has_more
    assert {p.id for p in first.mine} | {p.id for p in second.mine} == set(range(1, 14, 2))
    assert len(bob.pending) == 2 and bob.pages["pending"].number == 1


async def test_maintenance_windows_say_whether_they_are_open(sessions: SessionFactory) -> None:
    windows = {
        "prod": EnvironmentConfig(maintenance_windows=[MaintenanceWindow(start="22:00", end="02:00")]),
        "staging": EnvironmentConfig(maintenance_windows=[MaintenanceWindow(start="09:00", end="17:00")]),
    }
    async with sessions() as session:
        home = await home_views.load(
            session,
            team_id=TEAM,
            user_id=ALICE.user_id,
            policy=POLICY.__class__(engine=POLICY.engine, environments=windows),
            pages={},
            now=NOW,
        )

    assert [(w.environment, w.open_now) for w in home.windows] == [("prod", True), ("staging", False)]
