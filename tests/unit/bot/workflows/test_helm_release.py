"""helm_release planning: what the diff read becomes the upgrade's pins, the card's summary and the
rollback; the Deployments to verify; the sentence; and the inputs refused before anything is read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot import planner, workflows
from bot.domain import StepStage
from bot.errors import UserError
from bot.workflows.base import PlanningContext
from bot.workflows.catalog import Catalog, WorkflowRequest
from bot.workflows.forms import InvalidInputs
from bot.workflows.helm_release import HelmRelease
from tests.builders import ALICE
from tools.common.base import Action, ActionArgs, ActionResult, Effect
from tools.common.registry import Registry
from tools.grafana.args import AnnotateArgs
from tools.helm.args import UpgradeArgs
from tools.kubernetes.rollouts import RolloutStatusArgs

GIT = "https://git.example/deploy.git@main:prod/payments.yaml"
S3 = "s3://configs/prod/payments.yaml"
COMMIT = "3f" * 20
TYPED = {"release": "payments", "namespace": "shop", "chart": "example/payments", "version": "1.4.2"}
PROD_DEFAULTS = f"""
version: 1-prod
defaults:
  namespace: shop
  chart: oci://registry.example/charts/payments
  version: 1.4.2
  values_git: {GIT}
  values_s3: {S3}
"""


def diff_data(**changes: Any) -> dict[str, Any]:
    """helm.get_diff's data for shop/payments at revision 5 (4 deployed before it failed)."""
    return {
        "namespace": "shop",
        "release": "payments",
        "chart": "payments-1.4.2",
        "app_version": "2.1.0",
        "current_revision": 5,
        "previous_revision": 4,
        "previous_chart": "payments-1.4.1",
        "added": ["Service/payments-metrics"],
        "changed": ["Deployment/payments", "ConfigMap/payments"],
        "removed": [],
        "unchanged": 1,
        "patch": "…",
        **changes,
    }


class RecordedDiff(Action[UpgradeArgs]):
    """helm.get_diff answering with recorded data, keeping the arguments it was asked with."""

    name = "helm.get_diff"
    description = "Show what `helm upgrade --install` would change."
    args_model = UpgradeArgs
    effect = Effect.READ

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.asked: list[UpgradeArgs] = []

    async def run(self, args: UpgradeArgs) -> ActionResult:
        self.asked.append(args)
        return ActionResult(summary="diff", data=self.data)


def contract(action: str, model: type[ActionArgs]) -> Action[Any]:
    """An action's argument contract, checked against every planned step; planning never runs it."""

    class Contract(Action[Any]):
        name = action
        description = action
        args_model = model
        effect = Effect.WRITE

        async def run(self, args: Any) -> ActionResult:
            raise AssertionError("planning must not run a write")

    return Contract()


def context(diff: RecordedDiff | None, *, grafana: bool = False) -> PlanningContext:
    actions = [
        contract("helm.upgrade", UpgradeArgs),
        contract("kubernetes.rollout_status", RolloutStatusArgs),
        *([contract("grafana.annotate", AnnotateArgs)] if grafana else []),
        *([diff] if diff else []),
    ]
    return PlanningContext(requester=ALICE, cluster="", registry=Registry(actions))


def catalog_with(tmp_path: Path, files: dict[str, str]) -> Catalog:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return workflows.build_catalog(tmp_path, environments=["prod", "staging"])


async def draft(catalog: Catalog, typed: dict[str, str], diff: RecordedDiff, *, grafana: bool = False) -> Any:
    inputs = catalog.inputs(WorkflowRequest(name="helm_release", typed=typed), environment="prod")
    return await catalog.draft("helm_release", inputs, context(diff, grafana=grafana), intent="test")


async def test_the_upgrade_is_pinned_to_everything_its_diff_read(tmp_path: Path) -> None:
    s3 = {"uri": S3, "version_id": "v2.Yx", "etag": "9b2cf535f27731c974343645a3985328", "size": 20}
    diff = RecordedDiff(diff_data(values_git={"ref": GIT, "commit": COMMIT}, values_s3=s3))
    typed = {**TYPED, "values_git": GIT, "values_s3": S3, "values": "{replicaCount: 3}"}

    plan = await draft(catalog_with(tmp_path, {}), typed, diff)

    unpinned = {
        **TYPED,
        "values_git": GIT,
        "values_s3": S3,
        "values": "{replicaCount: 3}",
        "timeout_seconds": 300,
    }
    [asked] = diff.asked
    assert asked.model_dump(exclude_unset=True) == unpinned
    upgrade, rollout = plan.steps
    assert (upgrade.stage, upgrade.action) == (StepStage.ACT, "helm.upgrade")
    assert upgrade.args == {
        **unpinned,
        "expected_revision": 5,
        "values_git_commit": COMMIT,
        "values_s3_version": "v2.Yx",
        "values_s3_etag": "9b2cf535f27731c974343645a3985328",
    }
    assert (rollout.stage, rollout.action) == (StepStage.VERIFY, "kubernetes.rollout_status")
    assert rollout.args == {"namespace": "shop", "name": "payments", "timeout_seconds": 300}
    assert (
        plan.summary
        == "helm upgrade shop/payments revision 5 → payments-1.4.2 in prod: 1 added, 2 changed, 0 removed"
    )
    assert plan.rollback == (
        "helm rollback shop/payments to revision 4 (payments-1.4.1), the one deployed when this plan was "
        "made; it reverts Deployment/payments, ConfigMap/payments (changed); Service/payments-metrics (added)"
    )
    assert plan.target.kind == "HelmRelease"
    assert plan.risk.targets == ["helm/shop/payments"]


async def test_a_release_not_installed_yet_is_an_install_rolled_back_by_an_uninstall(tmp_path: Path) -> None:
    diff = RecordedDiff(
        diff_data(current_revision=None, previous_revision=None, previous_chart=None, changed=[])
    )

    plan = await draft(catalog_with(tmp_path, {}), TYPED, diff)

    assert plan.steps[0].args["expected_revision"] == 0
    assert plan.summary == "helm install shop/payments payments-1.4.2 in prod: 1 added, 0 changed, 0 removed"
    assert plan.rollback == "helm uninstall shop/payments: it was not installed when this plan was made"


async def test_an_object_in_a_bucket_without_versioning_is_pinned_by_its_etag(tmp_path: Path) -> None:
    s3 = {"uri": S3, "version_id": None, "etag": "d41d8cd98f00b204e9800998ecf8427e", "size": 3}

    plan = await draft(
        catalog_with(tmp_path, {}), {**TYPED, "values_s3": S3}, RecordedDiff(diff_data(values_s3=s3))
    )

    pins = {key: value for key, value in plan.steps[0].args.items() if key.startswith("values_s3_")}
    assert pins == {"values_s3_etag": "d41d8cd98f00b204e9800998ecf8427e"}


async def test_each_deployment_is_verified_then_the_check_held_then_grafana_annotated(tmp_path: Path) -> None:
    typed = {**TYPED, "deployments": "payments,payments-worker", "check": "up == 1", "timeout_seconds": "600"}

    plan = await draft(catalog_with(tmp_path, {}), typed, RecordedDiff(diff_data()), grafana=True)

    assert [(step.stage, step.action, step.args.get("name")) for step in plan.steps] == [
        (StepStage.ACT, "helm.upgrade", None),
        (StepStage.VERIFY, "kubernetes.rollout_status", "payments"),
        (StepStage.VERIFY, "kubernetes.rollout_status", "payments-worker"),
        (StepStage.VERIFY, "prometheus.query_threshold", None),
        (StepStage.FOLLOW_UP, "grafana.annotate", None),
    ]
    assert plan.steps[0].args["timeout_seconds"] == plan.steps[2].args["timeout_seconds"] == 600
    assert plan.steps[3].args["label"] == "payments check"
    assert plan.steps[4].args == {
        "text": "helm upgrade shop/payments to payments-1.4.2 (Carapulse, requested by U0123ALICE1)",
        "tags": ["carapulse", "helm_release", "prod", "payments"],
    }


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("helm upgrade payments in prod", {"release": "payments", "environment": "prod"}),
        ("Helm  upgrade payments", {"release": "payments"}),
        (
            "helm install payments to 1.4.2 in staging",
            {"release": "payments", "version": "1.4.2", "environment": "staging"},
        ),
        (
            "helm upgrade payments -n pay in prod",
            {"release": "payments", "namespace": "pay", "environment": "prod"},
        ),
    ],
)
def test_the_rules_planner_reads_the_sentence(text: str, typed: dict[str, str]) -> None:
    read = planner.read(text, environment="prod", workflows=[HelmRelease()])

    assert read == WorkflowRequest(name="helm_release", typed=typed)


def test_an_environments_defaults_make_the_sentence_enough(tmp_path: Path) -> None:
    catalog = catalog_with(tmp_path, {"prod/helm_release.yaml": PROD_DEFAULTS})
    request = WorkflowRequest(name="helm_release", typed={"release": "payments", "environment": "prod"})

    inputs = catalog.inputs(request, environment="staging")

    assert inputs.model_dump(exclude_defaults=True) == {
        "environment": "prod",
        "release": "payments",
        "namespace": "shop",
        "chart": "oci://registry.example/charts/payments",
        "version": "1.4.2",
        "values_git": GIT,
        "values_s3": S3,
    }


def test_an_environment_without_defaults_names_every_missing_input(tmp_path: Path) -> None:
    catalog = catalog_with(tmp_path, {"prod/helm_release.yaml": PROD_DEFAULTS})
    request = WorkflowRequest(name="helm_release", typed={"release": "payments", "environment": "staging"})

    with pytest.raises(InvalidInputs) as refused:
        catalog.inputs(request, environment="prod")

    assert refused.value.problems == {"namespace": "required", "chart": "required", "version": "required"}


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        (
            "release",
            "Payments",
            "Value error, a release name is lower-case letters, digits, '-' and '.', up to 53",
        ),
        (
            "chart",
            "./charts/payments",
            "Value error, write the chart as <repo>/<chart>, oci://<registry>/<path> or https://…/<chart>.tgz",
        ),
        ("version", "^1.4", "Value error, an exact chart version, e.g. 1.4.2 (no ranges such as ^1.4)"),
        ("values", "- a\n- list", "Value error, values must be a YAML mapping of keys to values"),
        (
            "values_git",
            GIT.split("@")[0],
            "Value error, values_git must look like <repository>@<revision>:<path>",
        ),
        (
            "values_s3",
            "configs/prod.yaml",
            "Value error, values_s3 must look like s3://<bucket>/<key> or s3://<bucket>/<key>?versionId=<id>",
        ),
        (
            "deployments",
            "payments, Worker",
            "Value error, list Deployment names (lower-case letters, digits, '-', '.') with commas",
        ),
        ("deployments", ",".join(f"d{i}" for i in range(11)), "Value error, at most 10 Deployments"),
        ("timeout_seconds", "5", "Input should be greater than or equal to 30"),
    ],
)
def test_wrong_inputs_are_refused_in_words_beside_their_field(
    tmp_path: Path, name: str, value: str, problem: str
) -> None:
    request = WorkflowRequest(name="helm_release", typed={**TYPED, name: value})

    with pytest.raises(InvalidInputs) as refused:
        catalog_with(tmp_path, {}).inputs(request, environment="prod")

    assert refused.value.problems == {name: problem}


async def test_a_plan_cannot_be_made_without_the_diff(tmp_path: Path) -> None:
    catalog = catalog_with(tmp_path, {})
    inputs = catalog.inputs(WorkflowRequest(name="helm_release", typed=TYPED), environment="prod")

    with pytest.raises(
        UserError, match=r"^I cannot plan this: helm.get_diff is not configured on this Carapulse\.$"
    ):
        await catalog.draft("helm_release", inputs, context(None), intent="test")
