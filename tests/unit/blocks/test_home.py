from datetime import UTC, datetime, timedelta

from blocks import ids
from blocks.home import MAX_BLOCKS, home_view
from bot.domain import (
    FreezeView,
    HomeView,
    MaintenanceWindowView,
    NoteView,
    PageInfo,
    PlanStatus,
    PlanSummary,
    PlaybookView,
    RiskLevel,
    RunbookView,
    ScheduleView,
    StepSpec,
    StepStage,
)
from bot.playground.slack.blockkit import check_view, view_too_large

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
LONG = "x" * 400


def _plan(n: int, status: PlanStatus = PlanStatus.AWAITING_APPROVAL) -> PlanSummary:
    return PlanSummary(
        id=n,
        summary=f"scale checkout {LONG}",
        status=status,
        requester_id="U0123ALICE1",
        environment="prod",
        risk=RiskLevel.MEDIUM,
        created_at=NOW,
        steps_total=5,
        steps_done=2,
    )


def _full() -> HomeView:
    """Every section full, every list with more pages before and after, long texts everywhere."""
    schedules = [
        ScheduleView(
            id=n,
            cron="0 9 * * 1-5",
            timezone="Europe/Berlin",
            request=LONG,
            channel_id="C0123OPSCHN",
            created_by="U0123ALICE1",
            enabled=n % 2 == 0,
            next_run_at=NOW + timedelta(hours=n) if n % 2 == 0 else None,
        )
        for n in range(5)
    ]
    return HomeView(
        user_id="U0123BOBBY2",
        can_approve=True,
        pending=[_plan(n) for n in range(5)],
        running=[_plan(n, PlanStatus.RUNNING) for n in range(5, 10)],
        mine=[_plan(n, PlanStatus.SUCCEEDED) for n in range(10, 15)],
        freezes=[FreezeView(environment=f"env{n}", until=NOW, reason=LONG) for n in range(10)],
        windows=[
            MaintenanceWindowView(
                environment="prod", start="22:00", end="02:00", timezone="UTC", open_now=False
            )
        ],
        upcoming=schedules,
        schedules=schedules,
        runbooks=[
            RunbookView(
                id=n,
                service="checkout",
                title=LONG[:150],
                body=LONG,
                workflow="incident_remediation",
                source="" if n % 2 else "runbooks/checkout.md",
                version="v3",
                updated_by="U0123ALICE1",
                updated_at=NOW,
            )
            for n in range(5)
        ],
        playbooks=[
            PlaybookView(
                id=n,
                name=f"playbook-{n}",
                description=LONG,
                inputs={"service": None, "namespace": "shop"},
                steps=[
                    StepSpec(
                        stage=StepStage.ACT, action="kubernetes.rollout_restart", args={}, description="x"
                    )
                ],
                spec={},
                version="v1",
                updated_by="U0123ALICE1",
                updated_at=NOW,
            )
            for n in range(5)
        ],
        notes=[
            NoteView(id=n, service="checkout", text=LONG, author_id="U0123ALICE1", created_at=NOW)
            for n in range(5)
        ],
        pages={
            name: PageInfo(number=3, has_more=True)
            for name in ("pending", "running", "mine", "schedules", "runbooks", "playbooks", "notes")
        },
        notice="Could not approve plan #4: you already approved it.",
    )


def test_a_full_home_stays_within_slacks_limits() -> None:
    view = home_view(_full())

    assert len(view["blocks"]) <= MAX_BLOCKS
    assert check_view(view) == []
    assert not view_too_large(view)


def test_pending_plans_have_approve_and_reject_with_the_plan_id() -> None:
    view = home_view(_full())

    actions = [b for b in view["blocks"] if b.get("block_id") == "home_pending_3"]
    assert [(e["action_id"], e["value"]) for e in actions[0]["elements"]] == [
        (ids.PLAN_APPROVE, "3"),
        (ids.PLAN_REJECT, "3"),
    ]


def test_each_section_pages_on_its_own() -> None:
    view = home_view(_full())

    pagers = {
        b["block_id"]: [e["value"] for e in b["elements"] if e["action_id"].startswith(ids.HOME_PAGE)]
        for b in view["blocks"]
        if b["type"] == "actions" and b.get("block_id", "").endswith("_actions")
    }
    assert pagers["home_running_actions"] == [
        '{"section": "running", "page": 2}',
        '{"section": "running", "page": 4}',
    ]
    assert len(pagers) == 7


def test_an_empty_home_says_so_and_a_viewer_is_told_why_nothing_waits_for_them() -> None:
    empty = HomeView(
        user_id="U0123CAROL3",
        can_approve=False,
        pending=[],
        running=[],
        mine=[],
        freezes=[],
        windows=[],
        upcoming=[],
        schedules=[],
        runbooks=[],
        playbooks=[],
        notes=[],
    )

    text = str(home_view(empty))

    assert "approvals need the approver or admin role" in text
    assert "None in force." in text and "Nothing scheduled." in text
    assert ids.HOME_PAGE not in text
    assert check_view(home_view(empty)) == []


def test_the_calendar_lists_runs_and_freeze_ends_in_time_order() -> None:
    full = _full()
    view = full.model_copy(
        update={
            "freezes": [
                FreezeView(environment="prod", until=NOW + timedelta(hours=1, minutes=30), reason="r")
            ]
        }
    )

    calendar = next(b["text"]["text"] for b in home_view(view)["blocks"] if "*Coming up*" in str(b))

    lines = calendar.splitlines()[1:]
    assert [line.split(": ", 1)[1][:20] for line in lines] == [
        "schedule #0 `xxxxxxx",
        "the freeze of prod e",
        "schedule #2 `xxxxxxx",
        "schedule #4 `xxxxxxx",
    ]
