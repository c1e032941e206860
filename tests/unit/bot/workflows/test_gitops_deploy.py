"""gitops_deploy's planning with the real git, Argo CD, GitHub, GitLab and Grafana tools against a
real repository and the fakes: what it reads and pins, the steps and card text it plans, and what it
refuses before anything changes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from bot import planner, toolbox, workflows
from bot.domain import PlanDraft, StepStage
from bot.errors import UserError
from bot.workflows.base import PlanningContext
from bot.workflows.catalog import WorkflowRequest
from bot.workflows.forms import InvalidInputs
from tests.builders import ALICE
from tests.fakes.gitops import (
    GITHUB_REPOSITORY,
    GITLAB_PROJECT,
    GitOpsWorld,
    gitops_world,
    values,
    values_file,
)

Plan = Callable[..., Coroutine[Any, Any, PlanDraft]]
AUTHOR = {"author_name": "U0123ALICE1", "author_email": "U0123ALICE1@users.carapulse.invalid"}


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[GitOpsWorld]:
    async with gitops_world(tmp_path, {"staging": "v1.4.2", "prod": "v1.4.1"}) as running:
        yield running


@pytest.fixture
def plan(world: GitOpsWorld) -> Plan:
    """Plan gitops_deploy in prod with the tools `environ` configures."""

    async def planned(environ: dict[str, str] | None = None, **typed: str) -> PlanDraft:
        built = toolbox.build(environ or world.environ())
        try:
            catalog = workflows.build_catalog(None, environments=["staging", "prod"])
            request = WorkflowRequest("gitops_deploy", {"service": "checkout", **world.defaults(), **typed})
            inputs = catalog.inputs(request, environment="prod")
            context = PlanningContext(requester=ALICE, cluster="", registry=built.registry)
            return await catalog.draft("gitops_deploy", inputs, context, intent="test")
        finally:
            await built.aclose()

    return planned


def by_action(draft: PlanDraft) -> dict[str, dict[str, Any]]:
    return {step.action: step.args for step in draft.steps}


async def test_a_deploy_pins_the_base_commit_and_the_running_revision(world: GitOpsWorld, plan: Plan) -> None:
    base = world.remote.tip()

    draft = await plan(version="v1.4.2")

    assert draft.summary == "deploy checkout to prod: image.tag v1.4.1 → v1.4.2"
    assert [(step.stage, step.action) for step in draft.steps] == [
        (StepStage.ACT, "git.create_branch"),
        (StepStage.ACT, "git.set_value"),
        (StepStage.ACT, "github.open_pull_request"),
        (StepStage.ACT, "github.merge_pull_request"),
        (StepStage.ACT, "argocd.get_diff"),
        (StepStage.ACT, "argocd.sync"),
        (StepStage.VERIFY, "argocd.app_status"),
        (StepStage.FOLLOW_UP, "grafana.annotate"),
    ]
    args = by_action(draft)
    branch = f"carapulse/checkout-prod-v1.4.2-{base[:8]}"
    where = {"remote": world.remote.url, "branch": branch}
    assert args["git.create_branch"] == {**where, "from_ref": "main", "expected_commit": base}
    assert args["git.set_value"] == {
        **where,
        "file": values_file("prod"),
        "path": "image.tag",
        "value": "v1.4.2",
        **AUTHOR,
        "revert_on_rollback": False,
    }
    assert args["github.open_pull_request"]["head"] == branch
    assert args["github.open_pull_request"]["title"] == "Deploy checkout v1.4.2 to prod"
    assert args["github.merge_pull_request"] == {
        "repository": GITHUB_REPOSITORY,
        "head": branch,
        "revert_via": {"remote": world.remote.url, **AUTHOR},
    }
    assert args["argocd.get_diff"] == {"name": "checkout-prod", "refresh": "normal"}
    assert args["argocd.sync"] == {"name": "checkout-prod", "expected_live_revision": base}
    assert args["argocd.app_status"] == {
        "name": "checkout-prod",
        "timeout_seconds": 600.0,
        "stale_revision": base,
    }
    assert args["grafana.annotate"]["tags"] == ["carapulse", "gitops_deploy", "prod", "checkout"]
    assert draft.rollback == (
        f"Roll checkout-prod back to the deployment it runs now ({base[:7]}), then revert the merge commit "
        "on main, so git says image.tag v1.4.1 again. A pull request left unmerged is closed and the "
        "change branch deleted."
    )
    assert draft.workflow is not None and draft.workflow.label == "gitops_deploy 1"
    assert world.remote.log("%H") == [base], "planning changes nothing"


async def test_gitlab_is_used_when_it_is_the_one_configured(world: GitOpsWorld, plan: Plan) -> None:
    draft = await plan(world.environ("gitlab"), version="v1.4.2", repository=GITLAB_PROJECT)

    args = by_action(draft)
    assert args["gitlab.open_merge_request"]["project"] == GITLAB_PROJECT
    assert args["gitlab.open_merge_request"]["target_branch"] == "main"
    assert args["gitlab.merge_merge_request"]["source_branch"] == args["git.create_branch"]["branch"]
    assert args["gitlab.merge_merge_request"]["should_remove_source_branch"] is True
    assert draft.rollback.endswith("A merge request left unmerged is closed and the change branch deleted.")


async def test_a_promotion_deploys_the_version_the_source_environment_names(
    world: GitOpsWorld, plan: Plan
) -> None:
    draft = await plan(promote_from="staging")

    assert draft.summary == "promote checkout from staging to prod: image.tag v1.4.1 → v1.4.2"
    assert by_action(draft)["git.set_value"]["value"] == "v1.4.2"
    assert by_action(draft)["github.open_pull_request"]["title"] == (
        "Deploy checkout v1.4.2 to prod (promoted from staging)"
    )


async def test_an_auto_synced_application_is_left_to_sync_the_merge_itself(
    world: GitOpsWorld, plan: Plan
) -> None:
    world.argocd.apps["checkout-prod"].auto_sync = True

    draft = await plan(version="v1.4.2")

    assert "argocd.sync" not in by_action(draft)
    assert draft.rollback.startswith(
        "Revert the merge commit on main, so git says image.tag v1.4.1 again; "
        "Argo CD auto-syncs checkout-prod back to it."
    )


async def test_without_grafana_there_is_no_annotation(world: GitOpsWorld, plan: Plan) -> None:
    draft = await plan(world.environ(grafana=False), version="v1.4.2")

    assert "grafana.annotate" not in by_action(draft)


async def test_a_check_becomes_a_verify_step(plan: Plan) -> None:
    draft = await plan(version="v1.4.2", check='max(checkout_error_ratio{job="checkout"}) < 0.05')

    assert by_action(draft)["prometheus.query_threshold"]["threshold"] == 0.05


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            {"version": "v1.4.1"},
            "Nothing to deploy: image.tag in apps/checkout/prod/values.yaml on main is already v1.4.1.",
        ),
        ({"promote_from": "staging", "environment": "staging"}, None),
        (
            {"version": "v1.4.2", "repository": ""},
            "gitops_deploy needs repository: set it with repository=… or in prod/gitops_deploy.yaml defaults",
        ),
        (
            {},
            "gitops_deploy needs version: set it with version=… (or promote_from=<environment>) "
            "or in prod/gitops_deploy.yaml defaults",
        ),
        (
            {"version": "v2", "promote_from": "staging"},
            "gitops_deploy takes a version or promote_from, not both",
        ),
        (
            {"version": "v2", "argocd_app": "{service}-canary"},
            "I could not read what the plan needs (argocd.get_app): argocd: GET "
            "/api/v1/applications/checkout-canary failed: not found: "
            'applications.argoproj.io "checkout-canary" not found',
        ),
        (
            {"version": "v2", "values_file": "apps/{service}/{environment}.yaml"},
            "I could not read what the plan needs (git.get_value): "
            "git: apps/checkout/prod.yaml does not exist in {remote}",
        ),
    ],
)
async def test_what_cannot_be_deployed_is_refused_before_anything_changes(
    world: GitOpsWorld, plan: Plan, typed: dict[str, str], message: str | None
) -> None:
    with pytest.raises((UserError, InvalidInputs)) as raised:
        await plan(**typed)

    refused = "`gitops_deploy` cannot start with these inputs: promote_from: Value error, "
    expected = message or refused + "promote from another environment than the one deployed to"
    assert raised.value.message == expected.format(remote=world.remote.url)
    assert world.remote.log("%s") == ["Initial values"]


async def test_both_providers_configured_need_the_provider_named(world: GitOpsWorld, plan: Plan) -> None:
    both = world.environ("github") | world.environ("gitlab")

    with pytest.raises(UserError) as raised:
        await plan(both, version="v1.4.2")
    assert raised.value.message == (
        "gitops_deploy needs provider: set it with provider=github or provider=gitlab "
        "or in prod/gitops_deploy.yaml defaults"
    )
    draft = await plan(both, version="v1.4.2", provider="gitlab", repository=GITLAB_PROJECT)
    assert "gitlab.merge_merge_request" in by_action(draft)


async def test_an_application_that_deploys_another_branch_is_refused(world: GitOpsWorld, plan: Plan) -> None:
    world.remote.commit_files({values_file("prod"): values("v1.4.0")}, "Release branch", branch="release")

    with pytest.raises(UserError) as raised:
        await plan(version="v1.4.2", base_branch="release")

    assert raised.value.message == (
        f"Argo CD application checkout-prod deploys main of {world.remote.url}, not release of "
        f"{world.remote.url}, so merging there would not deploy it; check argocd_app, remote and base_branch"
    )


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        (
            "deploy checkout v1.4.2 to staging",
            {"service": "checkout", "version": "v1.4.2", "environment": "staging"},
        ),
        ("Deploy checkout version 2024.05.1", {"service": "checkout", "version": "2024.05.1"}),
        (
            "promote checkout from staging to prod",
            {"service": "checkout", "promote_from": "staging", "environment": "prod"},
        ),
    ],
)
def test_the_rules_planner_reads_deploy_and_promote_sentences(text: str, typed: dict[str, str]) -> None:
    read = planner.read(text, environment="prod", workflows=workflows.built_in())

    assert read == WorkflowRequest(name="gitops_deploy", typed=typed)
