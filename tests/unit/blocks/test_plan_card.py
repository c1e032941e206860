import asyncio
import functools
from datetime import UTC, datetime, timedelta

import pytest

from blocks import ids
from blocks.modals import reject_modal
from blocks.plan_card import plan_card, plan_card_text
from blocks.replies import dry_run_reply, help_blocks, outcome_reply
from bot import planner, workflows
from bot.domain import (
    ApprovalView,
    NoteView,
    PlanDraft,
    PlannerRef,
    PlanStatus,
    PlanView,
    PolicyDecision,
    RevisionView,
    Risk,
    RiskLevel,
    StepStage,
    StepState,
    StepView,
)
from bot.playground.slack.blockkit import check_blocks, check_view
from tests.builders import scale_draft

CREATED = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@functools.cache
def _scale_draft() -> PlanDraft:
    """The scale_service plan, made once: card tests are not async."""
    return asyncio.run(scale_draft())


def scale_view(status: PlanStatus = PlanStatus.AWAITING_APPROVAL, **changes: object) -> PlanView:
    draft = _scale_draft()
    view = PlanView(
        id=42,
        team_id="T0123ABCDEF",
        requester_id="U0123ALICE1",
        intent=draft.intent,
        summary=draft.summary,
        target=draft.target,
        status=status,
        risk=draft.risk,
        decision=PolicyDecision(allow=True, required_approvals=1, reasons=["Needs 1 approval"]),
        rollback=draft.rollback,
        steps=[
            StepView(
                position=n,
                stage=s.stage,
                action=s.action,
                args=s.args,
                description=s.description,
                state=StepState.QUEUED,
            )
            for n, s in enumerate(draft.steps)
        ],
        approvals=[],
        created_at=CREATED,
    )
    return view.model_copy(update=changes)


def buttons(blocks: list[dict]) -> list[tuple[str, str]]:
    actions = [b for b in blocks if b["type"] == "actions"]
    return [(e["action_id"], e["value"]) for a in actions for e in a["elements"]]


def test_awaiting_card_shows_everything_an_approver_needs() -> None:
    blocks = plan_card(scale_view())
    rendered = str(blocks)

    assert check_blocks(blocks) == []
    assert blocks[0]["text"]["text"] == "Plan #42: scale checkout to 5 replicas (shop)"
    for expected in (
        "Awaiting approval",
        "<@U0123ALICE1>",
        "prod",
        "shop",
        "medium (blast radius: namespace)",
        "deployment/shop/checkout",
        "[act] `kubernetes.scale`",
        "[verify] `kubernetes.rollout_status`",
        '"replicas": 5',
        "Rollback:",
        "0 of 1",
    ):
        assert expected in rendered
    assert buttons(blocks) == [
        (ids.PLAN_APPROVE, "42:1"),
        (ids.PLAN_REJECT, "42:1"),
        (ids.PLAN_DRY_RUN, "42:1"),
        (ids.PLAN_EDIT, "42:1"),
        (ids.PLAN_CANCEL, "42:1"),
    ]


def test_an_edited_card_shows_its_version_what_changed_and_the_void_approvals() -> None:
    revision = RevisionView(
        version=2,
        edited_by="U0123ALICE1",
        edited_at=CREATED + timedelta(minutes=5),
        changes=["step 1 kubernetes.scale: replicas 5 → 7", "<!channel> sneaky"],
        voided_approvers=["U0123BOBBY2"],
    )
    view = scale_view(version=2, revision=revision)

    blocks = plan_card(view)
    rendered = str(blocks)

    assert check_blocks(blocks) == []
    assert blocks[0]["text"]["text"] == "Plan #42 (v2): scale checkout to 5 replicas (shop)"
    assert plan_card_text(view).startswith("Plan #42: scale checkout to 5 replicas (shop) (v2) - ")
    assert "*v2*: edited by <@U0123ALICE1>" in rendered and "Changed against v1" in rendered
    assert "• step 1 kubernetes.scale: replicas 5 → 7" in rendered
    assert "&lt;!channel&gt; sneaky" in rendered
    assert "Approvals of v1 by <@U0123BOBBY2> are void; v2 needs its own." in rendered
    assert {value for _, value in buttons(blocks)} == {"42:2"}


def test_a_card_that_asks_for_typing_says_what_and_its_approve_opens_the_dialog() -> None:
    blocks = plan_card(scale_view(confirm_word="prod"))

    assert "approving asks you to type `prod`" in str(blocks)
    assert (ids.PLAN_APPROVE, "42:1:confirm") in buttons(blocks)
    assert (ids.PLAN_REJECT, "42:1") in buttons(blocks)


def test_running_card_shows_step_states_and_durations_and_only_cancel() -> None:
    view = scale_view(
        PlanStatus.RUNNING, approvals=[ApprovalView(user_id="U0123BOBBY2", approved_at=CREATED)]
    )
    view.steps[0] = view.steps[0].model_copy(
        update={
            "state": StepState.SUCCEEDED,
            "started_at": CREATED,
            "finished_at": CREATED + timedelta(seconds=1.25),
            "output_summary": "checkout replicas 2 → 5",
        }
    )
    view.steps[1] = view.steps[1].model_copy(update={"state": StepState.RUNNING})

    blocks = plan_card(view)
    rendered = str(blocks)

    assert check_blocks(blocks) == []
    assert "Running" in rendered and "Approved by <@U0123BOBBY2>" in rendered
    assert "succeeded (1.2s)" in rendered and "checkout replicas 2 → 5" in rendered
    assert ":arrows_counterclockwise: running" in rendered
    assert buttons(blocks) == [(ids.PLAN_CANCEL, "42:1")]


@pytest.mark.parametrize(
    ("status", "label"),
    [
        (PlanStatus.SUCCEEDED, "Succeeded"),
        (PlanStatus.FAILED, "Failed"),
        (PlanStatus.ROLLED_BACK, "Rolled back"),
        (PlanStatus.REJECTED, "Rejected"),
        (PlanStatus.CANCELLED, "Cancelled"),
        (PlanStatus.EXPIRED, "Expired"),
    ],
)
def test_finished_cards_have_no_buttons(status: PlanStatus, label: str) -> None:
    view = scale_view(status, finished_at=CREATED + timedelta(seconds=90), status_actor_id="U0123BOBBY2")

    blocks = plan_card(view)

    assert buttons(blocks) == []
    assert label in str(blocks)
    assert plan_card_text(view).endswith(label)
    assert "1m30s after creation" in str(blocks)


def test_paused_card_asks_for_retry_skip_or_roll_back() -> None:
    reason = "The worker stopped while kubernetes.scale was running"
    view = scale_view(PlanStatus.PAUSED, status_reason=reason)

    blocks = plan_card(view)

    check_blocks(blocks)
    assert buttons(blocks) == [
        (ids.PLAN_RETRY_STEP, "42:1"),
        (ids.PLAN_SKIP_STEP, "42:1"),
        (ids.PLAN_ROLL_BACK, "42:1"),
    ]
    assert "Needs a decision" in str(blocks)
    assert "The worker stopped while kubernetes.scale was running" in str(blocks)


def test_cancelled_card_offers_the_rollback_while_completed_steps_are_in_effect() -> None:
    view = scale_view(PlanStatus.CANCELLED, status_actor_id="U0123BOBBY2", rollback_offered=True)

    blocks = plan_card(view)

    assert buttons(blocks) == [(ids.PLAN_ROLL_BACK, "42:1")]
    assert "an approver may roll back" in str(blocks)


def test_user_text_cannot_ping_or_link() -> None:
    view = scale_view(PlanStatus.REJECTED, status_reason="<!channel> see <http://evil|here>")

    rendered = str(plan_card(view))

    assert "<!channel>" not in rendered
    assert "&lt;!channel&gt;" in rendered


def test_a_pipeline_requester_is_named_not_mentioned() -> None:
    view = scale_view(requester_id="token:deploy")

    rendered = str(plan_card(view))

    assert "*Requested by* pipeline `token:deploy`" in rendered
    assert "<@token:deploy>" not in rendered


def test_huge_step_output_stays_inside_block_kit_limits() -> None:
    view = scale_view(PlanStatus.FAILED)
    view.steps[0] = view.steps[0].model_copy(
        update={"state": StepState.FAILED, "error": "x" * 10_000, "output_summary": "y" * 10_000}
    )
    many = [view.steps[0].model_copy(update={"position": n}) for n in range(30)]

    assert check_blocks(plan_card(view.model_copy(update={"steps": many}))) == []


def test_a_long_step_is_shown_whole_while_the_steps_fit_in_their_section() -> None:
    view = scale_view()
    pinned = {**view.steps[0].args, "pinned_commit": "3f" * 20, "values": "n" * 500}
    view.steps[0] = view.steps[0].model_copy(
        update={"args": pinned, "state": StepState.FAILED, "error": "moved"}
    )
    crowded = [view.steps[0].model_copy(update={"position": n}) for n in range(8)]

    whole = _steps(view)
    cut = _steps(view.model_copy(update={"steps": crowded}))

    assert whole.splitlines()[1].endswith('"values": "' + "n" * 500 + '"}` :x: failed')
    assert whole.splitlines()[2] == "      :warning: moved"
    assert cut.count("…") == 8, "eight such steps overflow the section: each is cut to its line"
    assert check_blocks(plan_card(view.model_copy(update={"steps": crowded}))) == []


def _steps(view: PlanView) -> str:
    [block] = [b for b in plan_card(view) if b.get("block_id") == ids.PLAN_STEPS_BLOCK]
    return block["text"]["text"]


def test_outcome_reply_says_what_changed_and_who_approved() -> None:
    view = scale_view(
        PlanStatus.SUCCEEDED,
        finished_at=CREATED + timedelta(seconds=3.5),
        approvals=[ApprovalView(user_id="U0123BOBBY2", approved_at=CREATED)],
    )
    view.steps[0] = view.steps[0].model_copy(
        update={"state": StepState.SUCCEEDED, "output_summary": "checkout replicas 2 → 5"}
    )

    text, blocks = outcome_reply(view)

    assert text == "Plan #42 succeeded after 3.5s"
    assert "checkout replicas 2 → 5" in str(blocks)
    assert "approved by <@U0123BOBBY2>" in str(blocks)
    assert check_blocks(blocks) == []


def test_outcome_of_a_read_plan_is_what_each_step_found() -> None:
    view = scale_view(
        PlanStatus.SUCCEEDED, risk=Risk(level=RiskLevel.READ, blast_radius="namespace", targets=[])
    )
    view.steps[0] = view.steps[0].model_copy(
        update={
            "action": "kubernetes.list_pods",
            "state": StepState.SUCCEEDED,
            "output_summary": "2 pods, 2 ready",
        }
    )
    view.steps[1] = view.steps[1].model_copy(update={"state": StepState.FAILED, "error": "timed out"})

    _, blocks = outcome_reply(view)

    assert "• `kubernetes.list_pods`: 2 pods, 2 ready" in str(blocks)
    assert "• `kubernetes.rollout_status`: timed out" in str(blocks)
    assert "nothing was changed" not in str(blocks)


def test_outcome_of_a_rolled_back_plan_lists_the_rollback() -> None:
    view = scale_view(PlanStatus.ROLLED_BACK, status_reason="verify failed")
    rollback = StepView(
        position=0,
        stage=StepStage.ROLLBACK,
        action="kubernetes.scale",
        args={},
        description="Roll back",
        state=StepState.SUCCEEDED,
        output_summary="checkout replicas 5 → 2",
    )

    _, blocks = outcome_reply(view.model_copy(update={"steps": [*view.steps, rollback]}))

    assert "checkout replicas 5 → 2" in str(blocks) and "verify failed" in str(blocks)


def test_dry_run_reply_lists_each_rehearsed_step() -> None:
    step = scale_view().steps[0]

    text, blocks = dry_run_reply(42, "U0123BOBBY2", [(step, True, "dry run: checkout replicas 2 → 5")])

    assert text == "Dry run of plan #42: nothing was changed"
    assert ":white_check_mark: `kubernetes.scale` dry run: checkout replicas 2 → 5" in str(blocks)
    assert check_blocks(blocks) == []


def test_help_and_reject_modal_respect_limits() -> None:
    examples = tuple(planner.examples(workflows.built_in()))
    assert check_blocks(help_blocks(examples)) == []
    modal = reject_modal(plan_id=42, channel_id="C0123OPSCHN", summary="s" * 5000)
    assert check_view(modal) == []
    assert modal["callback_id"] == ids.REJECT_MODAL


def test_card_names_the_model_that_planned_it() -> None:
    blocks = plan_card(scale_view(planner=PlannerRef(name="openai", model="gpt-4.1")))

    fields = [field["text"] for block in blocks for field in block.get("fields", [])]
    assert "*Planner*\nopenai (gpt-4.1)" in fields
    assert ":information_source:" not in str(blocks)
    assert check_blocks(blocks) == []


def test_card_says_why_the_rules_planner_stood_in() -> None:
    note = "anthropic (claude-sonnet-4-5) could not plan this (timed out after 20s). The rules read it."
    blocks = plan_card(scale_view(planner=PlannerRef(name="rules", note=note)))

    fields = [field["text"] for block in blocks for field in block.get("fields", [])]
    assert "*Planner*\nrules" in fields
    assert f":information_source: _{note}_" in blocks[1]["text"]["text"]


def test_card_of_a_plan_nobody_read_from_text_names_no_planner() -> None:
    fields = [field["text"] for block in plan_card(scale_view()) for field in block.get("fields", [])]

    assert not any(field.startswith("*Planner*") for field in fields)


def test_operator_notes_on_the_service_are_shown_escaped_under_the_rollback() -> None:
    notes = [
        NoteView(
            id=7, service="checkout", text="never < 3 in prod", author_id="U0123BOBBY2", created_at=CREATED
        ),
        NoteView(
            id=5, service="checkout", text="callbacks retry", author_id="U0123ALICE1", created_at=CREATED
        ),
    ]

    blocks = plan_card(scale_view(notes=notes))

    notes_block = blocks[blocks.index(next(b for b in blocks if "Rollback" in str(b))) + 1]
    assert notes_block["type"] == "context"
    assert [e["text"] for e in notes_block["elements"]] == [
        ":memo: *checkout*: never &lt; 3 in prod (<@U0123BOBBY2>, note 7)",
        ":memo: *checkout*: callbacks retry (<@U0123ALICE1>, note 5)",
    ]
    assert check_blocks(blocks) == []
    assert "memo" not in str(plan_card(scale_view()))
