import pytest

from bot import planner
from bot.domain import StepStage
from bot.errors import UserError


@pytest.mark.parametrize(
    ("text", "namespace", "replicas"),
    [
        ("scale checkout to 5", "default", 5),
        ("scale checkout to 5 in shop", "shop", 5),
        ("scale deployment checkout to 5 replicas in shop", "shop", 5),
        ("scale checkout in namespace shop to 5", "shop", 5),
        ("Scale  deploy/checkout to 0 -n shop", "shop", 0),
        ("scale checkout to 1 replica --namespace shop", "shop", 1),
    ],
)
def test_scale_sentences_plan_scale_then_rollout_check(text: str, namespace: str, replicas: int) -> None:
    draft = planner.plan(text, environment="prod")

    assert [(s.stage, s.action) for s in draft.steps] == [
        (StepStage.ACT, "kubernetes.scale"),
        (StepStage.VERIFY, "kubernetes.rollout_status"),
    ]
    assert draft.steps[0].args == {"namespace": namespace, "name": "checkout", "replicas": replicas}
    assert draft.target.environment == "prod"
    assert draft.risk.targets == [f"deployment/{namespace}/checkout"]
    assert "read just before the change" in draft.rollback


@pytest.mark.parametrize("text", ["restart checkout in shop", "rollout restart deployment/checkout -n shop"])
def test_restart_sentences_plan_rollout_restart(text: str) -> None:
    draft = planner.plan(text, environment="prod")

    assert draft.steps[0].action == "kubernetes.rollout_restart"
    assert draft.steps[0].args == {"namespace": "shop", "name": "checkout"}
    assert draft.steps[1].action == "kubernetes.rollout_status"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "make checkout faster",
        "scale checkout to five",
        "scale checkout to -1",
        "scale Check_out to 3",
        "restart",
        "scale checkout to 5 in shop please",
    ],
)
def test_unreadable_text_is_refused_with_examples(text: str) -> None:
    with pytest.raises(UserError) as error:
        planner.plan(text, environment="prod")

    assert "/carapulse scale checkout to 5 in shop" in error.value.message


def test_replica_counts_beyond_the_limit_are_refused() -> None:
    with pytest.raises(UserError, match="more than the 1000"):
        planner.plan("scale checkout to 5000", environment="prod")
