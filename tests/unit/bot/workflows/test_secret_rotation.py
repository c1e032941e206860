"""secret_rotation's planning: inputs checked per backend, what each backend reads and pins, the steps
and their risk floor, and the rollback the card promises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot import workflows
from bot.domain import PlanDraft, RiskLevel, StepStage
from bot.errors import ConfigError, UserError
from bot.workflows.base import PlanningContext
from bot.workflows.catalog import WorkflowRequest
from bot.workflows.forms import InvalidInputs
from tests.builders import ALICE
from tools.common.base import Action, ActionArgs, ActionResult, Effect
from tools.common.redaction import SECRET_KEY
from tools.common.registry import Registry

CATALOG = workflows.build_catalog(None, environments=["prod"])


class _Read(Action[ActionArgs]):
    """A read answering what a test says, and recording what it was asked."""

    effect = Effect.READ

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer_data = answer
        self.asked: list[dict[str, Any]] = []

    def parse_args(self, raw: dict[str, Any]) -> ActionArgs:
        self.asked.append(raw)
        return ActionArgs()

    async def run(self, args: ActionArgs) -> ActionResult:
        return ActionResult(summary="read", data=self.answer_data)


def read(name: str, answer: dict[str, Any]) -> _Read:
    action = type(name, (_Read,), {"name": name, "description": name, "args_model": ActionArgs})
    return action(answer)  # type: ignore[no-any-return]


def kv_metadata(current: int = 3, state: str = "live") -> _Read:
    return read("vault.get_secret_metadata", {"current_version": current, "versions": {str(current): state}})


def aws_secret(**changes: Any) -> _Read:
    found = {
        "name": "shop/db-password",
        "rotation_enabled": True,
        "versions": {"v-old": ["AWSPREVIOUS"], "v-now": ["AWSCURRENT"]},
        **changes,
    }
    return read("aws.secret_get", found)


async def draft(typed: dict[str, str], *reads: Action[Any]) -> PlanDraft:
    request = WorkflowRequest(name="secret_rotation", typed=typed)
    inputs = CATALOG.inputs(request, environment="prod")
    context = PlanningContext(requester=ALICE, cluster="", registry=Registry(list(reads)))
    return await CATALOG.draft("secret_rotation", inputs, context, intent="test")


def steps_of(planned: PlanDraft) -> list[tuple[StepStage, str, RiskLevel | None, bool]]:
    return [(s.stage, s.action, s.risk, s.rerun_on_rollback) for s in planned.steps]


async def test_a_kv_rotation_pins_the_version_read_and_restarts_the_consumers_again_on_rollback() -> None:
    metadata = kv_metadata(current=3)

    planned = await draft(
        {
            "path": "db/checkout",
            "keys": "password, api_key",
            "consumers": "checkout,payments",
            "namespace": "shop",
        },
        metadata,
    )

    assert metadata.asked == [{"mount": "secret", "path": "db/checkout"}]
    assert steps_of(planned) == [
        (StepStage.ACT, "vault.write_secret", RiskLevel.HIGH, False),
        (StepStage.ACT, "kubernetes.rollout_restart", RiskLevel.HIGH, True),
        (StepStage.ACT, "kubernetes.rollout_restart", RiskLevel.HIGH, True),
        (StepStage.VERIFY, "kubernetes.rollout_status", None, False),
        (StepStage.VERIFY, "kubernetes.rollout_status", None, False),
    ]
    assert planned.steps[0].args == {
        "mount": "secret",
        "path": "db/checkout",
        "generate": {
            "password": {"length": 32, "alphabet": "alphanumeric"},
            "api_key": {"length": 32, "alphabet": "alphanumeric"},
        },
        "keep_other_keys": True,
        "expected_version": 3,
    }
    assert planned.steps[0].description == (
        "Generate new password, api_key for secret/db/checkout as version 4, made when the step runs and "
        "never shown; the other keys are kept"
    )
    assert planned.steps[2].args == {"namespace": "shop", "name": "payments"}
    assert planned.rollback == (
        "Write version 3 of secret/db/checkout back as a new version (the old value returns), "
        "then restart checkout, payments again so they read it"
    )
    assert planned.summary == "rotate Vault secret secret/db/checkout, restart checkout, payments (shop)"
    assert planned.risk.targets == [
        "vault/secret/db/checkout",
        "deployment/shop/checkout",
        "deployment/shop/payments",
    ]
    assert (planned.target.kind, planned.target.namespace, planned.target.name) == (
        "VaultSecret",
        "shop",
        "secret/db/checkout",
    )


async def test_the_sentence_rotates_a_kv_path_with_nothing_to_restart() -> None:
    request = CATALOG.inputs(
        WorkflowRequest(name="secret_rotation", typed={"path": "db/checkout"}), environment="prod"
    )

    planned = await draft({"path": "db/checkout"}, kv_metadata(current=1))

    assert (request.backend, request.keys, request.consumers) == ("vault_kv", "password", "")  # type: ignore[attr-defined]
    assert steps_of(planned) == [(StepStage.ACT, "vault.write_secret", RiskLevel.HIGH, False)]
    assert (
        planned.rollback
        == "Write version 1 of secret/db/checkout back as a new version (the old value returns)"
    )


async def test_a_kv_secret_whose_current_version_is_deleted_cannot_be_rotated() -> None:
    with pytest.raises(UserError) as refused:
        await draft({"path": "db/checkout"}, kv_metadata(current=2, state="deleted"))

    assert refused.value.message == (
        "Version 2 of secret/db/checkout is deleted, so its other keys cannot be kept; "
        "restore or write the secret first."
    )


async def test_a_database_rotation_reads_the_role_and_says_it_cannot_be_undone() -> None:
    role = read("vault.get_static_role", {"username": "orders_app", "db_name": "orders"})

    planned = await draft(
        {"backend": "vault_database", "role": "orders-app", "consumers": "orders", "namespace": "shop"}, role
    )

    assert role.asked == [{"mount": "database", "role": "orders-app"}]
    assert steps_of(planned) == [
        (StepStage.ACT, "vault.rotate_role_credentials", RiskLevel.HIGH, False),
        (StepStage.ACT, "kubernetes.rollout_restart", RiskLevel.HIGH, False),
        (StepStage.VERIFY, "kubernetes.rollout_status", None, False),
    ]
    assert planned.steps[0].description == (
        "Rotate the password of static role database/orders-app (user orders_app on orders); "
        "Vault makes it and never shows it"
    )
    assert planned.rollback.startswith(
        "None for the rotation: the database no longer accepts the old password"
    )


async def test_an_aws_rotation_pins_awscurrent_and_waits_for_the_function_before_restarting() -> None:
    secret = aws_secret()

    planned = await draft(
        {
            "backend": "aws",
            "path": "shop/db-password",
            "consumer_kind": "ecs",
            "consumers": "checkout",
            "ecs_cluster": "shop",
            "aws_environment": "eu",
            "check": "up == 1",
        },
        secret,
    )

    assert secret.asked == [{"environment": "eu", "secret_id": "shop/db-password"}]
    assert steps_of(planned) == [
        (StepStage.ACT, "aws.secret_rotate", RiskLevel.HIGH, False),
        (StepStage.ACT, "aws.secret_rotation_wait", None, False),
        (StepStage.ACT, "aws.ecs_restart", RiskLevel.HIGH, False),
        (StepStage.VERIFY, "aws.ecs_wait", None, False),
        (StepStage.VERIFY, "prometheus.query_threshold", None, False),
    ]
    assert planned.steps[0].args == {
        "environment": "eu",
        "secret_id": "shop/db-password",
        "expected_version_id": "v-now",
    }
    assert planned.steps[1].args["previous_version_id"] == "v-now"
    assert planned.steps[2].args == {"environment": "eu", "cluster": "shop", "service": "checkout"}
    assert planned.steps[4].args["label"] == "checkout check"
    assert planned.risk.targets == ["aws/shop/db-password", "ecs/shop/checkout"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rotation_enabled": False}, "AWS secret shop/db-password has no rotation configured"),
        ({"versions": {"v-old": ["AWSPREVIOUS"]}}, "AWS secret shop/db-password has no AWSCURRENT version"),
        (
            {"versions": {"v-now": ["AWSCURRENT"], "v-next": ["AWSPENDING"]}},
            "AWS secret shop/db-password is being rotated already (version v-next is AWSPENDING)",
        ),
    ],
)
async def test_an_aws_secret_that_cannot_rotate_now_is_refused_at_planning(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(UserError) as refused:
        await draft({"backend": "aws", "path": "shop/db-password"}, aws_secret(**changes))

    assert refused.value.message.startswith(message)


async def test_planning_without_the_backends_tool_names_it() -> None:
    with pytest.raises(UserError) as refused:
        await draft({"path": "db/checkout"})

    assert refused.value.message == (
        "I cannot plan this: vault.get_secret_metadata is not configured on this Carapulse."
    )


@pytest.mark.parametrize(
    ("typed", "problems"),
    [
        ({}, {"path": "required"}),
        (
            {"path": "../etc"},
            {"path": "Value error, a KV path is letters, digits and ._@+=- in segments split by /"},
        ),
        (
            {"backend": "aws", "path": "shop db"},
            {"path": "Value error, an AWS secret is named by letters, digits and /_+=.@:- (or its ARN)"},
        ),
        (
            {"backend": "vault_database", "path": "db/x"},
            {
                "path": "Value error, vault_database rotates a static role: give role, not path",
                "role": "required",
            },
        ),
        ({"path": "db/x", "role": "app"}, {"role": "Value error, only vault_database rotates a static role"}),
        (
            {"path": "db/x", "keys": "pass word"},
            {"keys": "Value error, 'pass word' is not a key name (letters, digits and ._-)"},
        ),
        ({"path": "db/x", "keys": " , "}, {"keys": "Value error, give at least one key"}),
        ({"path": "db/x", "length": "8"}, {"length": "Input should be greater than or equal to 16"}),
        (
            {"path": "db/x", "consumers": "checkout,checkout"},
            {"consumers": "Value error, a consumer is named twice"},
        ),
        (
            {"path": "db/x", "consumers": "Check_Out"},
            {"consumers": "Value error, 'Check_Out' is not a deployment name"},
        ),
        (
            {"path": "db/x", "consumer_kind": "ecs", "consumers": "checkout"},
            {"ecs_cluster": "required"},
        ),
        (
            {"path": "db/x", "check": "looks fine"},
            {
                "check": "Value error, write it as <PromQL> <comparator> <number>, "
                "e.g. sum(rate(http_errors_total[5m])) < 1"
            },
        ),
        ({"path": "db/x", "secret": "hunter2"}, {"secret": "not an input of secret_rotation"}),
    ],
)
def test_wrong_inputs_are_refused_naming_each_field(typed: dict[str, str], problems: dict[str, str]) -> None:
    with pytest.raises(InvalidInputs) as refused:
        CATALOG.inputs(WorkflowRequest(name="secret_rotation", typed=typed), environment="prod")

    assert refused.value.problems == problems


def test_no_input_has_a_name_the_card_would_mask() -> None:
    names = CATALOG.get("secret_rotation").inputs.model_fields
    assert [name for name in names if SECRET_KEY.search(name)] == []


def test_an_override_may_leave_the_reference_to_whoever_starts_it(tmp_path: Path) -> None:
    (tmp_path / "prod").mkdir()
    (tmp_path / "prod" / "secret_rotation.yaml").write_text(
        "version: 2\ndefaults: {backend: vault_database, mount: pg}\n", encoding="utf-8"
    )

    catalog = workflows.build_catalog(tmp_path, environments=["prod"])

    with pytest.raises(InvalidInputs) as refused:
        catalog.inputs(WorkflowRequest(name="secret_rotation", typed={}), environment="prod")
    assert refused.value.problems == {"role": "required"}


async def test_an_override_changes_arguments_but_cannot_lower_the_risk(tmp_path: Path) -> None:
    lowering = "version: 2\nsteps:\n  rotate: {risk: low}\n"
    (tmp_path / "prod").mkdir()
    (tmp_path / "prod" / "secret_rotation.yaml").write_text(lowering, encoding="utf-8")

    with pytest.raises(ConfigError) as refused:
        workflows.build_catalog(tmp_path, environments=["prod"])

    assert refused.value.message == (
        "workflow override prod/secret_rotation.yaml: steps.rotate.risk: Extra inputs are not permitted"
    )
