"""Environment override files: read and checked at start-up, applied when a workflow is planned."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import workflows
from bot.domain import StepStage, WorkflowRef
from bot.errors import ConfigError, UserError
from bot.workflows.base import PlanningContext
from bot.workflows.catalog import Catalog, WorkflowRequest
from tests.builders import ALICE
from tools.common.base import Action, ActionArgs, ActionResult, Effect
from tools.common.registry import Registry

ENVIRONMENTS = ["prod", "staging"]
GOOD = """
version: 2-prod
defaults:
  namespace: shop
steps:
  wait:
    timeout_seconds: 900
    description: Wait for {name} in {namespace}, up to 15 minutes
  check:
    enabled: false
checks:
  - label: checkout 5xx
    expr: 'sum(rate(http_requests_total{{service="{name}",code=~"5.."}}[1m]))'
    comparator: "<"
    threshold: 0.01
"""


def catalog_with(tmp_path: Path, files: dict[str, str]) -> Catalog:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return workflows.build_catalog(tmp_path, environments=ENVIRONMENTS)


async def draft_of(catalog: Catalog, typed: dict[str, str], environment: str = "prod") -> object:
    request = WorkflowRequest(name="scale_service", typed=typed)
    inputs = catalog.inputs(request, environment=environment)
    context = PlanningContext(requester=ALICE, cluster="", registry=Registry())
    return await catalog.draft("scale_service", inputs, context, intent="test")


async def test_an_override_changes_version_defaults_and_steps_of_its_environment_only(tmp_path: Path) -> None:
    catalog = catalog_with(tmp_path, {"prod/scale_service.yaml": GOOD})

    prod = await draft_of(catalog, {"name": "checkout", "count": "5", "check": "up == 1"})
    staging = await draft_of(catalog, {"name": "checkout", "count": "5", "check": "up == 1"}, "staging")

    assert prod.workflow == WorkflowRef(
        name="scale_service", version="2-prod", override="prod/scale_service.yaml"
    )
    assert [(s.stage, s.action) for s in prod.steps] == [
        (StepStage.ACT, "kubernetes.scale"),
        (StepStage.VERIFY, "kubernetes.rollout_status"),
        (StepStage.VERIFY, "prometheus.query_threshold"),
    ]
    scale, wait, check = prod.steps
    assert scale.args == {"namespace": "shop", "name": "checkout", "replicas": 5}
    assert (wait.timeout_seconds, wait.description) == (900, "Wait for checkout in shop, up to 15 minutes")
    assert check.args["expr"] == 'sum(rate(http_requests_total{service="checkout",code=~"5.."}[1m]))'
    assert check.args["label"] == "checkout 5xx"
    assert staging.workflow == WorkflowRef(name="scale_service", version="1")
    assert [s.args.get("expr") for s in staging.steps][-1] == "up"
    assert staging.steps[0].args["namespace"] == "default"


def test_workflow_show_marks_what_the_override_changed(tmp_path: Path) -> None:
    catalog = catalog_with(tmp_path, {"prod/scale_service.yaml": GOOD})

    info = catalog.info("scale_service", "prod")

    assert [(s.id, s.changed_by_override, s.enabled) for s in info.steps] == [
        ("scale", False, True),
        ("wait", True, True),
        ("check", True, False),
    ]
    assert next(f for f in info.fields if f.name == "namespace").default == "shop"
    assert info.ref.label == "scale_service 2-prod (prod/scale_service.yaml)"


class ScaleArgs(ActionArgs):
    namespace: str
    name: str
    replicas: int


class Scale(Action[ScaleArgs]):
    """Stands in for kubernetes.scale's argument contract; planning never runs it."""

    name = "kubernetes.scale"
    description = "Set a Deployment's replica count."
    args_model = ScaleArgs
    effect = Effect.WRITE

    async def run(self, args: ScaleArgs) -> ActionResult:
        raise AssertionError("planning must not run a write")


async def test_override_arguments_are_checked_by_the_tool_when_the_plan_is_made(tmp_path: Path) -> None:
    override = "version: '3'\nsteps:\n  scale:\n    args:\n      replicas: '{namespace}'\n"
    catalog = catalog_with(tmp_path, {"prod/scale_service.yaml": override})
    request = WorkflowRequest(name="scale_service", typed={"name": "checkout", "count": "5"})
    inputs = catalog.inputs(request, environment="prod")
    registry = Registry([Scale()])
    context = PlanningContext(requester=ALICE, cluster="", registry=registry)

    with pytest.raises(UserError) as refused:
        await catalog.draft("scale_service", inputs, context, intent="test")

    assert refused.value.message == (
        "Step 1 of scale_service, kubernetes.scale (as changed by prod/scale_service.yaml): "
        "replicas: Input should be a valid integer, unable to parse string as an integer"
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"prod/scale_service.txt": "version: 1"},
            "not a .yaml file",
        ),
        (
            {"qa/scale_service.yaml": "version: 1"},
            "environment qa is not configured (known: prod, staging)",
        ),
        (
            {"prod/deploy.yaml": "version: 1"},
            "there is no workflow deploy (known: "
            + ", ".join(sorted(workflow.name for workflow in workflows.built_in()))
            + ")",
        ),
        (
            {"prod/scale_service.yaml": "version: [1"},
            "cannot be read: ",
        ),
        (
            {"prod/scale_service.yaml": "- version"},
            "must be a mapping with at least `version`",
        ),
        (
            {"prod/scale_service.yaml": "defaults: {}"},
            "version: Field required",
        ),
        (
            {"prod/scale_service.yaml": "version: 1\nowner: sre"},
            "owner: Extra inputs are not permitted",
        ),
        (
            {"prod/scale_service.yaml": "version: 'two words'"},
            "version: String should match pattern",
        ),
        (
            {"prod/scale_service.yaml": "version: 1\nsteps:\n  resize: {enabled: false}"},
            "steps.resize: scale_service has no step resize (steps: scale, wait, check)",
        ),
        (
            {"prod/scale_service.yaml": "version: 1\nsteps:\n  wait: {timeout_seconds: 0}"},
            "steps.wait.timeout_seconds: Input should be greater than 0",
        ),
        (
            {"prod/scale_service.yaml": "version: 1\nsteps:\n  scale: {args: {name: '{service}'}}"},
            "steps.scale.args: unknown placeholder {service}",
        ),
        (
            {"prod/scale_service.yaml": "version: 1\ndefaults: {size: 3}"},
            "defaults.size: not an input of scale_service",
        ),
        (
            {"prod/scale_service.yaml": "version: 1\ndefaults: {count: many}"},
            "defaults.count: Input should be a valid integer",
        ),
        (
            {"prod/scale_service.yaml": "version: 1\ndefaults: {environment: staging}"},
            "defaults.environment: not an input of scale_service",
        ),
        (
            {
                "prod/scale_service.yaml": "version: 1\nchecks:\n  - {label: x, expr: 'up{job=\"x\"}', "
                "comparator: '<', threshold: 1}"
            },
            'checks.0.expr: Value error, unknown placeholder {job="x"}',
        ),
    ],
)
def test_a_bad_override_stops_start_up_naming_file_and_field(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        catalog_with(tmp_path, files)

    [source] = files
    assert refused.value.message.startswith(f"workflow override {source}: {message}")
    assert "\n" not in refused.value.message


def test_a_missing_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^WORKFLOWS_DIR: .*nowhere is not a directory$"):
        workflows.build_catalog(tmp_path / "nowhere", environments=ENVIRONMENTS)


def test_a_check_may_name_an_input_but_not_something_else(tmp_path: Path) -> None:
    check = "version: 1\nchecks:\n  - {label: x, expr: 'up{{job=\"{kind}\"}}', comparator: '<', threshold: 1}"

    catalog_with(tmp_path, {"prod/scale_service.yaml": check})
