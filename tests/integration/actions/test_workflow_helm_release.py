"""helm_release through Slack: the form or the sentence, the diff and the pins on the card before
anyone approves, approval by someone else, the worker's upgrade with exactly the pinned values, the
rollout read from the fake Kubernetes and a PromQL check against the real Prometheus, and
`helm rollback` to the revision read at planning when the check fails. Values come from a real git
repository and moto's S3; helm is the stand-in that checks every argv (tests/fakes/cli_standins.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from blocks import ids
from tests.fakes.cli_standins import StandIn
from tests.fakes.grafana import FakeGrafana
from tests.fakes.helm_output import deployment_manifest, history, release
from tests.fakes.moto_server import MotoServer
from tests.fakes.prometheus_stack import RunningStack
from tests.harness import RunningBot
from tests.integration.actions.workflow_support import BotWith, approved_run, field, open_form, submit
from tests.integration.tools.helm.support import (
    HISTORY,
    NEW,
    OLD,
    STATUS,
    UPGRADE,
    commit_of,
    commit_values,
    values_repository,
)

BUCKET, KEY = "configs", "prod/web.yaml"
S3_VALUES = "image:\n  tag: 2.1.0\n"
VALUE_FILES = ("--values=values-repo/prod/web.yaml", "--values=values-s3.yaml")
DEPLOYED_3 = history([(2, "superseded", OLD, "Install complete"), (3, "deployed", OLD, "Upgrade complete")])
ERROR_RATIO = 'max(checkout_error_ratio{job="checkout"})'


@dataclass
class HelmSetup:
    helm: StandIn
    repo: Path
    settings: dict[str, str]
    version_id: str

    def override(self, extra: str = "") -> dict[str, str]:
        """prod's override file: the release's chart, namespace and value sources, and a quick check."""
        text = (
            "version: 1-prod\n"
            "defaults:\n"
            "  namespace: shop\n"
            "  chart: example/web\n"
            "  version: 1.4.0\n"
            f"  values_git: file://{self.repo}@main:prod/web.yaml\n"
            f"  values_s3: s3://{BUCKET}/{KEY}\n"
            "steps:\n"
            "  check:\n"
            "    args: {window_seconds: 1, interval_seconds: 0.5}\n"
        )
        return {"prod/helm_release.yaml": text + extra}

    def expect_plan(self, files: tuple[str, ...] = VALUE_FILES) -> None:
        """Planning: the history (revision 3 deployed), the status, and the dry run with the values."""
        before = deployment_manifest("web", image="registry.example/web:2.0.0")
        after = deployment_manifest("web", image="registry.example/web:2.1.0")
        self.helm.expect(*HISTORY, stdout=DEPLOYED_3)
        self.helm.expect(*STATUS, stdout=release("web", "shop", 3, chart=None, manifest=before))
        rendered = release(
            "web", "shop", 4, status="pending-upgrade", description="Dry run complete", manifest=after
        )
        self.helm.expect(*UPGRADE, *files, "--dry-run", "--timeout=300s", stdout=rendered)

    def expect_upgrade(self, files: tuple[str, ...] = VALUE_FILES, timeout: str = "--timeout=300s") -> None:
        self.helm.expect(*HISTORY, stdout=DEPLOYED_3)
        self.helm.expect(*UPGRADE, *files, "--wait", timeout, stdout=release("web", "shop", 4, chart=NEW))


@pytest.fixture
def setup(tmp_path: Path, moto: MotoServer, stack: RunningStack) -> HelmSetup:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    repo = values_repository(tmp_path)
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    version_id = s3.put_object(Bucket=BUCKET, Key=KEY, Body=S3_VALUES.encode())["VersionId"]
    settings = moto.environ(
        HELM_ENABLED="1",
        PATH=f"{bin_dir}:/usr/bin:/bin",
        HELM_VALUES_GIT_REPOS=f"file://{repo.parent}",
        HELM_VALUES_S3_BUCKETS=BUCKET,
        PROMETHEUS_URL=stack.prometheus_url,
    )
    return HelmSetup(StandIn(bin_dir, "helm"), repo, settings, version_id)


async def test_the_form_plans_an_upgrade_with_its_diff_and_pins_on_the_card_and_runs_exactly_that(
    bot_with: BotWith, setup: HelmSetup
) -> None:
    with_inline = (*VALUE_FILES, "--values=values.yaml")
    setup.expect_plan(with_inline)
    setup.expect_upgrade(with_inline)
    async with FakeGrafana() as grafana:
        settings = setup.settings | {"GRAFANA_URL": grafana.url, "GRAFANA_TOKEN": grafana.token}
        async with bot_with(settings, files=setup.override()) as bot:
            bot.kube.add_deployment("shop", "web")
            await open_form(bot, "helm_release")
            inputs = {"release": field("web"), "values": field("{replicaCount: 3}")}
            await submit(bot, inputs | {"check": field(f"{ERROR_RATIO} < 0.05")})

            card = await bot.card_text(1, "Awaiting approval")
            assert (
                "helm upgrade shop/web revision 3 → web-1.4.0 in prod: 0 added, 1 changed, 0 removed" in card
            )
            assert (
                "*Rollback:* helm rollback shop/web to revision 3 (web-1.3.0), the one deployed when this "
                "plan was made; it reverts Deployment/web (changed)"
            ) in card
            upgrade = _step_args(bot, "helm.upgrade")
            assert upgrade["expected_revision"] == 3
            assert upgrade["values_git_commit"] == commit_of(setup.repo, "main")
            assert upgrade["values_s3_version"] == setup.version_id
            assert len(setup.helm.calls) == 3, "the diff ran before anyone approved"

            final = await approved_run(bot, "Succeeded")
        [annotation] = grafana.annotations.values()
    assert "upgraded shop/web to revision 4 (web-1.4.0, deployed); was revision 3 (web-1.3.0)" in final
    assert "kubernetes.rollout_status" in final
    assert "web check &lt; 0.05 held for 1s" in final
    applied = setup.helm.calls[4]
    assert "--wait" in applied.argv
    assert applied.files == {
        "values-repo/prod/web.yaml": "replicaCount: 9\n",
        "values-s3.yaml": S3_VALUES,
        "values.yaml": "{replicaCount: 3}",
    }
    assert annotation["text"] == "helm upgrade shop/web to web-1.4.0 (Carapulse, requested by U0123ALICE1)"
    assert annotation["tags"] == ["carapulse", "helm_release", "prod", "web"]
    setup.helm.assert_done()


async def test_a_failed_check_rolls_back_to_the_revision_read_at_planning(
    bot_with: BotWith, setup: HelmSetup
) -> None:
    setup.expect_plan()
    setup.expect_upgrade()
    after = history([(2, "superseded", OLD, "x"), (3, "superseded", OLD, "x"), (4, "deployed", NEW, "x")])
    setup.helm.expect(*HISTORY, stdout=after)
    setup.helm.expect(
        "rollback",
        "web",
        "3",
        "--namespace=shop",
        "--wait",
        "--timeout=300s",
        stdout="Rollback was a success!\n",
    )
    setup.helm.expect(*STATUS, stdout=release("web", "shop", 5, chart=None))
    async with bot_with(setup.settings, files=setup.override()) as bot:
        bot.kube.add_deployment("shop", "web")
        await bot.driver.slash_command(
            f"workflow start helm_release release=web check='{ERROR_RATIO} < 0.01'"
        )

        final = await approved_run(bot, "Rolled back")
        assert _step_args(bot, "helm.rollback") == {"namespace": "shop", "release": "web", "revision": 3}
    assert "web check was 0.031" in final
    assert "needs &lt; 0.01" in final
    assert "rolled shop/web back to revision 3 (web-1.3.0): now revision 5, deployed" in final
    setup.helm.assert_done()


async def test_the_sentence_plans_from_the_override_which_changes_the_upgrade_step(
    bot_with: BotWith, setup: HelmSetup
) -> None:
    slower = "  upgrade:\n    args: {timeout_seconds: 900}\n  rollout:\n    enabled: false\n"
    setup.expect_plan()
    setup.expect_upgrade(timeout="--timeout=900s")
    async with bot_with(setup.settings, files=setup.override(slower)) as bot:
        await bot.driver.slash_command("helm upgrade web in prod")

        card = await bot.card_text(1, "Awaiting approval")
        assert "helm_release 1-prod (prod/helm_release.yaml)" in card
        assert _step_args(bot, "helm.upgrade")["timeout_seconds"] == 900
        assert "kubernetes.rollout_status" not in card
        await approved_run(bot, "Succeeded")
    setup.helm.assert_done()


async def test_wrong_inputs_are_shown_beside_their_fields_and_helm_is_never_called(
    bot_with: BotWith, setup: HelmSetup
) -> None:
    async with bot_with(setup.settings) as bot:
        await open_form(bot, "helm_release")

        response = await submit(
            bot,
            {
                "release": field("web"),
                "namespace": field("shop"),
                "chart": field("./charts/web"),
                "version": field("^1.4"),
                "values": field("[replicaCount, 3]"),
            },
        )

        assert response.json() == {
            "response_action": "errors",
            "errors": {
                "chart": "Value error, write the chart as <repo>/<chart>, oci://<registry>/<path> or "
                "https://…/<chart>.tgz",
                "version": "Value error, an exact chart version, e.g. 1.4.2 (no ranges such as ^1.4)",
                "values": "Value error, values must be a YAML mapping of keys to values",
            },
        }
        assert bot.slack.calls_to("chat.postMessage") == []
    assert setup.helm.calls == []


def _new_s3_version(setup: HelmSetup, moto: MotoServer) -> str:
    setup.helm.expect(*HISTORY, stdout=DEPLOYED_3)
    newer = moto.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=b"image:\n  tag: 2.2.0\n")["VersionId"]
    moved = f"values_s3 s3://{BUCKET}/{KEY} changed since the plan was made"
    return f"{moved} (pinned {setup.version_id}, now {newer})"


def _new_commit(setup: HelmSetup, moto: MotoServer) -> str:
    setup.helm.expect(*HISTORY, stdout=DEPLOYED_3)
    planned = commit_of(setup.repo, "main")
    newer = commit_values(setup.repo, "prod/web.yaml", "replicaCount: 12\n")
    return (
        f"values_git file://{setup.repo}@main:prod/web.yaml changed since the plan was made "
        f"(pinned {planned}, now {newer})"
    )


def _upgraded_by_someone_else(setup: HelmSetup, moto: MotoServer) -> str:
    newer = history([(3, "superseded", OLD, "x"), (4, "deployed", NEW, "Upgrade complete")])
    setup.helm.expect(*HISTORY, stdout=newer)
    return "helm release shop/web changed since the plan was made (pinned revision 3, now revision 4)"


@pytest.mark.parametrize("move", [_new_s3_version, _new_commit, _upgraded_by_someone_else])
async def test_a_value_that_moved_after_planning_fails_the_upgrade_and_nothing_is_upgraded(
    bot_with: BotWith, setup: HelmSetup, moto: MotoServer, move: Callable[[HelmSetup, MotoServer], str]
) -> None:
    setup.expect_plan()
    async with bot_with(setup.settings, files=setup.override()) as bot:
        await bot.driver.slash_command("helm upgrade web in prod")
        await bot.card_text(1, "Awaiting approval")
        moved = move(setup, moto)

        final = await approved_run(bot, "Failed")
    assert f"helm.upgrade failed: {moved}; make a new plan" in final
    setup.helm.assert_done()


def _step_args(bot: RunningBot, action: str) -> dict[str, object]:
    """A step's arguments as the card shows them."""
    card = bot.card(1)
    assert card is not None
    steps = next(block for block in card["blocks"] if block.get("block_id") == ids.PLAN_STEPS_BLOCK)
    line = next(line for line in steps["text"]["text"].splitlines() if f"`{action}`" in line)
    return json.loads(line.split("` `", 1)[1].split("` ", 1)[0])
