import pytest

from bot.domain import StepSpec, StepStage
from bot.plan_diff import MAX_LINES, PlanContent, changes

TARGET = {"environment": "prod", "namespace": "shop", "name": "checkout"}


def step(action: str = "kubernetes.scale", stage: StepStage = StepStage.ACT, **args: object) -> StepSpec:
    return StepSpec(stage=stage, action=action, args=args, description=f"{action} {args}")


def content(*steps: StepSpec, intent: str = "scale checkout to 5 in shop", **target: str) -> PlanContent:
    return PlanContent(intent, {**TARGET, **target}, list(steps), "scale back")


def test_a_changed_argument_reads_old_to_new() -> None:
    before = content(step(name="checkout", replicas=5), step("kubernetes.rollout_status", StepStage.VERIFY))
    after = content(step(name="checkout", replicas=7), step("kubernetes.rollout_status", StepStage.VERIFY))

    assert changes(before, after) == ["step 1 kubernetes.scale: replicas 5 → 7"]


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (content(step(replicas=5), step("prometheus.check")), ["step 2 added: prometheus.check {}"]),
        (content(), ["step 1 removed: kubernetes.scale"]),
        (
            content(step("kubernetes.rollout_restart", replicas=5)),
            ['step 1: act kubernetes.scale → act kubernetes.rollout_restart {"replicas": 5}'],
        ),
        (content(step(replicas=5), namespace="web"), ["namespace: shop → web"]),
        (content(step(replicas=5), intent="scale it"), ["request: scale checkout to 5 in shop → scale it"]),
    ],
)
def test_added_removed_and_replaced_steps_and_target_changes(after: PlanContent, expected: list[str]) -> None:
    assert changes(content(step(replicas=5)), after) == expected


def test_a_secret_argument_is_never_shown() -> None:
    before = content(step("vault.write", data={"password": "hunter2"}, path="db/checkout"))
    after = content(step("vault.write", data={"password": "correct-horse"}, path="db/checkout"))

    [line] = changes(before, after)

    assert "hunter2" not in line and "correct-horse" not in line
    assert line == "step 1 vault.write: a masked argument changed"


def test_many_changes_end_with_a_count_of_the_rest() -> None:
    before = content(*(step(replicas=n) for n in range(12)))
    after = content(*(step(replicas=n + 1) for n in range(12)))

    lines = changes(before, after)

    assert len(lines) == MAX_LINES
    assert lines[-1] == f"and {12 - MAX_LINES + 1} more changes"
