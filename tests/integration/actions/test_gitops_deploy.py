"""gitops_deploy through Slack, end to end: a real repository, the GitHub and GitLab fakes backed by
it, Argo CD rendering it, Grafana, and a real Prometheus for the check; approved by someone else and
run by the worker."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.fakes.gitops import (
    GITHUB_REPOSITORY,
    GITLAB_PROJECT,
    GitOpsWorld,
    Provider,
    gitops_world,
    values_file,
)
from tests.fakes.prometheus_stack import RunningStack
from tests.harness import RunningBot
from tests.integration.actions.workflow_support import BotWith, approved_run, choice, field, open_form, submit

ERROR_RATIO = 'max(checkout_error_ratio{job="checkout"})'
ENVIRONMENTS = json.dumps({"prod": {"production": True}, "staging": {}})
FAST_CHECK = "  check:\n    args: {window_seconds: 1, interval_seconds: 0.5}\n"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[GitOpsWorld]:
    async with gitops_world(tmp_path / "gitops", {"staging": "v1.4.2", "prod": "v1.4.1"}) as running:
        yield running


def override(world: GitOpsWorld, provider: Provider, steps: str = "") -> str:
    """An environment's gitops_deploy.yaml: where its repository lives, a fast check, and `steps`."""
    defaults = "".join(f"  {name}: {value}\n" for name, value in world.defaults(provider).items())
    return f"version: 2-fast\ndefaults:\n{defaults}steps:\n{FAST_CHECK}{steps}"


@asynccontextmanager
async def deploying(
    bot_with: BotWith,
    world: GitOpsWorld,
    stack: RunningStack,
    provider: Provider = "github",
    *,
    prod_steps: str = "",
) -> AsyncIterator[RunningBot]:
    settings = {
        **world.environ(provider),
        "ENVIRONMENTS": ENVIRONMENTS,
        "PROMETHEUS_URL": stack.prometheus_url,
    }
    files = {
        "staging/gitops_deploy.yaml": override(world, provider),
        "prod/gitops_deploy.yaml": override(world, provider, prod_steps),
    }
    async with bot_with(settings, files=files) as bot:
        yield bot


async def test_a_deploy_is_merged_synced_verified_and_annotated(
    bot_with: BotWith, world: GitOpsWorld, stack: RunningStack
) -> None:
    async with deploying(bot_with, world, stack) as bot:
        await bot.driver.slash_command(
            f"workflow start gitops_deploy service=checkout version=v1.4.2 check='{ERROR_RATIO} < 0.05'"
        )

        card = await bot.card_text(1, "Awaiting approval")
        assert "Plan #1: deploy checkout to prod: image.tag v1.4.1 → v1.4.2" in card
        assert "gitops_deploy 2-fast (prod/gitops_deploy.yaml)" in card
        assert "Roll checkout-prod back to the deployment it runs now" in card
        assert world.github.repositories[GITHUB_REPOSITORY].pulls == {}
        final = await approved_run(bot, "Succeeded")

    pull = world.github.pull(GITHUB_REPOSITORY, 1)
    assert pull["title"] == "Deploy checkout v1.4.2 to prod"
    assert pull["merge_commit_sha"] == world.remote.tip()
    assert world.remote.show(values_file("prod")).splitlines()[2] == "  tag: v1.4.2  # bumped by Carapulse"
    [bump] = [
        line
        for line in world.remote.log("%an <%ae>|%s")
        if line.endswith("→ v1.4.2 in apps/checkout/prod/values.yaml")
    ]
    assert bump.startswith("U0123ALICE1 <U0123ALICE1@users.carapulse.invalid>|Set image.tag v1.4.1")
    assert await world.image("prod") == "registry.example/checkout:v1.4.2"
    assert (
        "checkout-prod: a sync would change 1 resources: update Deployment shop/checkout "
        "(spec.template.spec.containers[0].image: registry.example/checkout:v1.4.1 → "
        "registry.example/checkout:v1.4.2)"
    ) in final
    assert f"checkout-prod is Synced and Healthy at {world.remote.tip()[:7]}" in final
    [annotation] = world.grafana.annotations.values()
    assert annotation["text"] == (
        "deploy checkout to prod: image.tag v1.4.1 → v1.4.2 (Carapulse, requested by U0123ALICE1)"
    )
    assert annotation["tags"] == ["carapulse", "gitops_deploy", "prod", "checkout"]


async def test_a_deploy_through_gitlab_merges_its_merge_request(
    bot_with: BotWith, world: GitOpsWorld, stack: RunningStack
) -> None:
    async with deploying(bot_with, world, stack, "gitlab") as bot:
        await bot.driver.slash_command("deploy checkout v1.4.3 to staging")

        card = await bot.card_text(1, "Awaiting approval")
        assert "deploy checkout to staging: image.tag v1.4.2 → v1.4.3" in card
        assert "gitlab.merge_merge_request" in card
        await approved_run(bot, "Succeeded")

    [merged] = world.gitlab.projects[GITLAB_PROJECT].merge_requests.values()
    assert merged["state"] == "merged"
    assert merged["merge_commit_sha"] == world.remote.tip()
    assert await world.image("staging") == "registry.example/checkout:v1.4.3"
    assert not world.remote.has_branch(merged["source_branch"]), "GitLab removed it with the merge"


async def test_a_failed_check_reverts_the_merge_and_rolls_argo_cd_back(
    bot_with: BotWith, world: GitOpsWorld, stack: RunningStack
) -> None:
    before = world.remote.tip()
    async with deploying(bot_with, world, stack) as bot:
        await bot.driver.slash_command(
            f"workflow start gitops_deploy service=checkout version=v1.4.2 check='{ERROR_RATIO} < 0.01'"
        )

        final = await approved_run(bot, "Rolled back")

    assert "checkout check was 0.031" in final
    assert "needs &lt; 0.01" in final
    merge = world.github.pull(GITHUB_REPOSITORY, 1)["merge_commit_sha"]
    revert, merged = world.remote.log("%H|%s")[:2]
    assert (
        merged == f"{merge}|Merge pull request #1 from acme/{world.github.pull(GITHUB_REPOSITORY, 1)['head']}"
    )
    assert revert.split("|")[1].startswith('Revert "Merge pull request #1')
    assert world.remote.show(values_file("prod")) == world.remote.show(values_file("prod"), before)
    assert await world.image("prod") == "registry.example/checkout:v1.4.1"
    assert world.grafana.annotations == {}, "nothing is recorded for a change that was rolled back"
    assert not world.remote.has_branch(world.github.pull(GITHUB_REPOSITORY, 1)["head"])


async def test_wrong_inputs_are_refused_beside_their_fields(
    bot_with: BotWith, world: GitOpsWorld, stack: RunningStack
) -> None:
    async with deploying(bot_with, world, stack) as bot:
        view = await open_form(bot, "gitops_deploy")
        blocks = {block.get("block_id"): block for block in view["blocks"]}
        assert blocks["remote"]["element"]["initial_value"] == world.remote.url

        response = await submit(
            bot,
            {
                "service": field("checkout"),
                "version": field("v1.4.2 final"),
                "values_file": field("apps/{team}/values.yaml"),
                "provider": choice("gitlab"),
            },
        )

        assert response.json() == {
            "response_action": "errors",
            "errors": {
                "version": "String should match pattern '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'",
                "values_file": "Value error, unknown placeholder {team}; use {service} and {environment}",
            },
        }
        assert bot.slack.calls_to("chat.postMessage") == []


async def test_an_override_file_changes_the_wait(
    bot_with: BotWith, world: GitOpsWorld, stack: RunningStack
) -> None:
    longer = "  wait:\n    args: {timeout_seconds: 900}\n    description: Wait up to 15 minutes\n"
    async with deploying(bot_with, world, stack, prod_steps=longer) as bot:
        await bot.driver.slash_command("deploy checkout v1.4.2 to prod")

        card = await bot.card_text(1, "Awaiting approval")
        assert '"timeout_seconds": 900' in card
        await bot.driver.slash_command("workflow show gitops_deploy")
        [shown] = await bot.slack.wait_until(lambda: bot.slack.responses)
        assert "[verify] `wait`: Wait up to 15 minutes (argocd.app_status) _changed here_" in str(shown.body)
        await approved_run(bot, "Succeeded")


async def test_a_base_branch_that_moved_after_planning_is_not_deployed(
    bot_with: BotWith, world: GitOpsWorld, stack: RunningStack
) -> None:
    planned = world.remote.tip()
    async with deploying(bot_with, world, stack) as bot:
        await bot.driver.slash_command("deploy checkout v1.4.2 to prod")
        await bot.card_text(1, "Awaiting approval")
        pushed = world.remote.commit_files({"README.md": "a hotfix landed meanwhile\n"}, "Hotfix")

        final = await approved_run(bot, "Failed")

    assert (
        f"main of {world.remote.url} changed since the plan was made (pinned {planned}, now {pushed}); "
        "make a new plan"
    ) in final
    assert world.github.repositories[GITHUB_REPOSITORY].pulls == {}
    assert world.remote.log("%H") == [pushed, planned], "nothing merged"
    assert await world.image("prod") == "registry.example/checkout:v1.4.1"


async def test_staging_is_promoted_to_prod_once(
    bot_with: BotWith, world: GitOpsWorld, stack: RunningStack
) -> None:
    async with deploying(bot_with, world, stack) as bot:
        await bot.driver.slash_command("promote checkout from staging to prod")

        card = await bot.card_text(1, "Awaiting approval")
        assert "Plan #1: promote checkout from staging to prod: image.tag v1.4.1 → v1.4.2" in card
        await approved_run(bot, "Succeeded")
        assert await world.image("prod") == "registry.example/checkout:v1.4.2"

        await bot.driver.slash_command("promote checkout from staging to prod")
        [answer] = await bot.slack.wait_until(lambda: bot.slack.responses)

    assert answer.body["text"] == (
        "Nothing to deploy: image.tag in apps/checkout/prod/values.yaml on main is already v1.4.2."
    )
    assert (
        world.github.pull(GITHUB_REPOSITORY, 1)["title"]
        == "Deploy checkout v1.4.2 to prod (promoted from staging)"
    )
    assert len(world.github.repositories[GITHUB_REPOSITORY].pulls) == 1
