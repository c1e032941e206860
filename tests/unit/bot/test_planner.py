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


@pytest.mark.parametrize(
    ("text", "action", "args"),
    [
        ("pods of checkout in shop", "kubernetes.list_pods", {"namespace": "shop", "deployment": "checkout"}),
        ("pods of checkout", "kubernetes.list_pods", {"namespace": "default", "deployment": "checkout"}),
        (
            "logs of checkout -n shop",
            "kubernetes.get_deployment_logs",
            {"namespace": "shop", "name": "checkout"},
        ),
        (
            "history of deployment checkout in namespace shop",
            "kubernetes.get_deployment_summary",
            {"namespace": "shop", "name": "checkout"},
        ),
        ("alerts for checkout", "alertmanager.list_alerts", {"matchers": ['service="checkout"']}),
    ],
)
def test_read_sentences_plan_one_read_step(text: str, action: str, args: dict[str, object]) -> None:
    draft = read(text)

    assert not isinstance(draft, WorkflowRequest)
    assert [(s.action, s.args) for s in draft.steps] == [(action, args)]
    assert draft.risk.level == "read"
    assert draft.rollback == "None needed: nothing is changed"


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        (
            "roll back checkout in shop",
            {"remediation": "rollback", "service": "checkout", "namespace": "shop"},
        ),
        ("rollback deployment checkout", {"remediation": "rollback", "service": "checkout"}),
        ("silence checkout for 2h", {"remediation": "silence", "service": "checkout", "silence_for": "2h"}),
        (
            "silence alerts for checkout for 30m",
            {"remediation": "silence", "service": "checkout", "silence_for": "30m"},
        ),
    ],
)
def test_remediation_sentences_ask_for_incident_remediation(text: str, typed: dict[str, str]) -> None:
    assert read(text) == WorkflowRequest(name="incident_remediation", typed=typed)


@pytest.mark.parametrize(
    ("silence_for", "problem"),
    [
        ("1m", "a silence lasts from 5m to 7d"),
        ("8d", "a silence lasts from 5m to 7d"),
        ("soon", "is not a length"),
    ],
)
def test_silence_lengths_outside_five_minutes_to_a_week_are_refused(silence_for: str, problem: str) -> None:
    request = WorkflowRequest(
        name="incident_remediation",
        typed={"remediation": "silence", "service": "checkout", "silence_for": silence_for},
    )

    with pytest.raises(UserError, match=problem):
        CATALOG.inputs(request, environment="prod")
