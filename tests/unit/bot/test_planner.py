import pytest

from bot import planner, workflows
from bot.errors import UserError
from bot.workflows.catalog import WorkflowRequest

CATALOG = workflows.build_catalog(None, environments=["prod"])


def read(text: str) -> object:
    return planner.read(text, environment="prod", workflows=CATALOG)


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("scale checkout to 5", {"kind": "deployment", "name": "checkout", "count": "5"}),
        (
            "scale checkout to 5 in shop",
            {"kind": "deployment", "name": "checkout", "count": "5", "namespace": "shop"},
        ),
        (
            "scale deployment checkout to 5 replicas in shop",
            {"kind": "deployment", "name": "checkout", "count": "5", "namespace": "shop"},
        ),
        (
            "scale checkout in namespace shop to 5",
            {"kind": "deployment", "name": "checkout", "count": "5", "namespace": "shop"},
        ),
        (
            "Scale  deploy/checkout to 0 -n shop",
            {"kind": "deployment", "name": "checkout", "count": "0", "namespace": "shop"},
        ),
        (
            "scale checkout to 1 replica --namespace shop",
            {"kind": "deployment", "name": "checkout", "count": "1", "namespace": "shop"},
        ),
        ("scale asg web-asg to 6", {"kind": "asg", "name": "web-asg", "count": "6"}),
        (
            "scale auto scaling group web.asg_1 to 6 instances",
            {"kind": "asg", "name": "web.asg_1", "count": "6"},
        ),
        (
            "scale ecs shop/checkout to 3",
            {"kind": "ecs", "ecs_cluster": "shop", "name": "checkout", "count": "3"},
        ),
        (
            "scale ecs service shop/checkout to 3 tasks",
            {"kind": "ecs", "ecs_cluster": "shop", "name": "checkout", "count": "3"},
        ),
    ],
)
def test_scale_sentences_ask_for_the_scale_service_workflow(text: str, typed: dict[str, str]) -> None:
    assert read(text) == WorkflowRequest(name="scale_service", typed=typed)


@pytest.mark.parametrize("text", ["restart checkout in shop", "rollout restart deployment/checkout -n shop"])
def test_restart_sentences_plan_rollout_restart(text: str) -> None:
    draft = read(text)

    assert not isinstance(draft, WorkflowRequest)
    assert draft.steps[0].action == "kubernetes.rollout_restart"
    assert draft.steps[0].args == {"namespace": "shop", "name": "checkout"}
    assert draft.steps[1].action == "kubernetes.rollout_status"


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("rotate secret db/checkout", {"path": "db/checkout"}),
        ("Rotate the secret db/checkout", {"path": "db/checkout"}),
        (
            "rotate secret db/checkout and restart checkout,payments in shop",
            {"path": "db/checkout", "consumers": "checkout,payments", "namespace": "shop"},
        ),
        (
            "rotate secret db/checkout and restart checkout, payments -n shop",
            {"path": "db/checkout", "consumers": "checkout, payments", "namespace": "shop"},
        ),
        ("rotate aws secret shop/db-password", {"backend": "aws", "path": "shop/db-password"}),
        (
            "rotate database role orders-app and restart orders in shop",
            {"backend": "vault_database", "role": "orders-app", "consumers": "orders", "namespace": "shop"},
        ),
        ("rotate db static role orders-app", {"backend": "vault_database", "role": "orders-app"}),
    ],
)
def test_rotation_sentences_ask_for_the_secret_rotation_workflow(text: str, typed: dict[str, str]) -> None:
    assert read(text) == WorkflowRequest(name="secret_rotation", typed=typed)


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
        "scale ecs checkout to 3",
        "rotate secret",
        "rotate secret db/checkout and restart",
        "rotate database role orders/app",
    ],
)
def test_unreadable_text_is_refused_with_examples(text: str) -> None:
    with pytest.raises(UserError) as error:
        read(text)

    assert "/carapulse scale checkout to 5 in shop" in error.value.message
    assert "/carapulse scale asg web-asg to 6" in error.value.message
    assert "/carapulse restart checkout in shop" in error.value.message
    assert "/carapulse rotate secret db/checkout" in error.value.message
