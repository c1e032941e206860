"""The helm tool driven through its entry point against a stand-in `helm` that checks every argv and
answers in helm 3's JSON formats; values from git come from a real repository through real git."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fakes.cli_standins import StandIn
from tests.fakes.helm_output import NOT_FOUND, deployment_manifest, history, release, release_list
from tests.integration.tools.helm.support import (
    HISTORY,
    INLINE_VALUES,
    NEW,
    OLD,
    STATUS,
    UPGRADE,
    WEB,
    expect_diff_reads,
    run,
    standin_environ,
    values_repository,
)
from tools.common.base import RiskHint, ToolError
from tools.common.registry import Registry
from tools.common.runner import CliRunner
from tools.common.toolset import NotConfigured
from tools.helm import actions, toolset
from tools.helm.client import HelmClient, ReleaseRef
from tools.helm.value_files import ValuesWriter


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "bin"
    directory.mkdir()
    return directory


@pytest.fixture
def helm(bin_dir: Path) -> StandIn:
    return StandIn(bin_dir, "helm")


@pytest.fixture
def environ(bin_dir: Path, tmp_path: Path) -> dict[str, str]:
    return standin_environ(bin_dir, tmp_path)


@pytest.fixture
def registry(environ: dict[str, str], helm: StandIn) -> Registry:
    return Registry(toolset(environ).actions)


def _status(revision: int, *, manifest: str = "") -> str:
    return release("web", "shop", revision, chart=None, manifest=manifest)


async def test_status_reads_the_release_with_the_configured_cluster_only(
    registry: Registry, helm: StandIn, environ: dict[str, str]
) -> None:
    # The runner masks the Secret's `password:` line inside the JSON; the document must survive that.
    helm.expect(
        *STATUS, stdout=_status(5, manifest=deployment_manifest("web", image="web:2", secret="s3cret"))
    )

    result = await run(registry, "helm.status", WEB)

    assert result.summary == "shop/web: deployed, revision 5, last deployed 2024-05-07T09:00:00.123456789Z"
    assert result.data["revision"] == 5
    assert "manifest" not in result.data, "the manifest holds Secret data"
    env = helm.calls[0].env
    assert env["KUBECONFIG"] == environ["KUBECONFIG"]
    assert env["HELM_KUBECONTEXT"] == "prod-eu"
    assert "SLACK_BOT_TOKEN" not in env
    assert env["HOME"] == str(helm.calls[0].cwd), "HOME is a scratch directory, not the service's"
    helm.assert_done()


async def test_list_releases_reads_one_row_past_the_page_to_offer_the_next(
    registry: Registry, helm: StandIn
) -> None:
    rows = [
        ("api", "shop", 7, "deployed", NEW),
        ("web", "shop", 5, "pending-upgrade", NEW),
        ("x", "shop", 1, "failed", OLD),
    ]
    helm.expect(
        "list",
        "--namespace=shop",
        "--all",
        "--max=3",
        "--offset=4",
        "--output=json",
        stdout=release_list(rows),
    )

    result = await run(registry, "helm.list_releases", {"namespace": "shop", "limit": 2, "offset": 4})

    assert (
        result.summary
        == "2 releases in shop: shop/api (deployed, revision 7), shop/web (pending-upgrade, revision 5)"
    )
    assert [r["name"] for r in result.data["releases"]] == ["api", "web"]
    assert result.data["releases"][1]["revision"] == 5
    assert result.data["next_offset"] == 6
    helm.assert_done()


async def test_list_releases_across_namespaces_without_a_next_page(registry: Registry, helm: StandIn) -> None:
    rows = release_list([("web", "shop", 5, "deployed", NEW)])
    helm.expect("list", "--all-namespaces", "--all", "--max=51", "--offset=0", "--output=json", stdout=rows)

    result = await run(registry, "helm.list_releases", {})

    assert result.summary == "1 release in all namespaces: shop/web (deployed, revision 5)"
    assert result.data["next_offset"] is None
    helm.assert_done()


async def test_history_lists_revisions_oldest_first(registry: Registry, helm: StandIn) -> None:
    rows = [(5, "deployed", NEW, "Upgrade complete"), (4, "superseded", OLD, "Install complete")]
    helm.expect("history", "web", "--namespace=shop", "--max=20", "--output=json", stdout=history(rows))

    result = await run(registry, "helm.get_history", WEB)

    assert result.summary == "shop/web: 2 revisions, latest 5 deployed (web-1.4.0: Upgrade complete)"
    assert [r["revision"] for r in result.data["revisions"]] == [4, 5]
    helm.assert_done()


async def test_get_values_of_a_revision_and_of_a_release_without_values(
    registry: Registry, helm: StandIn
) -> None:
    values = '{"image":{"tag":"2.1.0"},"replicaCount":3}\n'
    helm.expect(
        "get", "values", "web", "--namespace=shop", "--output=json", "--revision=4", "--all", stdout=values
    )
    helm.expect("get", "values", "web", "--namespace=shop", "--output=json", stdout="null\n")

    computed = await run(registry, "helm.get_values", {**WEB, "revision": 4, "all_values": True})
    supplied = await run(registry, "helm.get_values", WEB)

    assert computed.summary == "shop/web: 2 top-level computed values (image, replicaCount)"
    assert computed.data["values"] == {"image": {"tag": "2.1.0"}, "replicaCount": 3}
    assert supplied.summary == "shop/web: 0 top-level user-supplied values"
    assert supplied.data["values"] == {}
    helm.assert_done()


async def test_diff_compares_the_dry_run_with_the_release_and_hides_secrets(
    registry: Registry, helm: StandIn
) -> None:
    before = deployment_manifest("web", image="registry.example/web:2.0.0")
    after = deployment_manifest("web", image="registry.example/web:2.1.0", secret="hunter2-db")
    expect_diff_reads(helm, 5, manifest=before)
    helm.expect(
        *UPGRADE,
        "--values=values.yaml",
        "--dry-run",
        "--timeout=300s",
        stdout=release(
            "web", "shop", 6, status="pending-upgrade", description="Dry run complete", manifest=after
        ),
    )

    result = await run(
        registry,
        "helm.get_diff",
        {**WEB, "chart": "example/web", "version": "1.4.0", "values": INLINE_VALUES},
    )

    assert result.summary == "shop/web (revision 5) → web-1.4.0: 1 added, 1 changed, 0 removed"
    assert result.data["changed"] == ["Deployment/web"]
    assert result.data["added"] == ["Secret/web-db"]
    assert result.data["unchanged"] == 1
    patch = result.data["patch"]
    assert "-        image: registry.example/web:2.0.0\n+        image: registry.example/web:2.1.0" in patch
    assert "# Secret/web-db added (contents hidden)" in patch
    assert base64.b64encode(b"hunter2-db").decode() not in str(result.data), "Secret data stays out"
    assert helm.calls[2].files == {"values.yaml": INLINE_VALUES}
    helm.assert_done()


async def test_upgrade_dry_run_of_a_new_release_shows_every_resource_added(
    registry: Registry, helm: StandIn
) -> None:
    helm.expect(*HISTORY, stderr=NOT_FOUND, exit_code=1)
    rendered = release(
        "web",
        "shop",
        1,
        status="pending-install",
        description="Dry run complete",
        manifest=deployment_manifest("web", image="web:2.1.0"),
    )
    helm.expect(*UPGRADE, "--dry-run", "--timeout=600s", stdout=rendered)

    result = await run(
        registry,
        "helm.upgrade",
        {**WEB, "chart": "example/web", "version": "1.4.0", "timeout_seconds": 600},
        dry_run=True,
    )

    assert result.summary == "dry run: shop/web (not installed) → web-1.4.0: 2 added, 0 changed, 0 removed"
    assert result.data["current_revision"] is None
    helm.assert_done()


async def test_upgrade_remembers_the_deployed_revision_and_its_rollback_returns_there(
    registry: Registry, helm: StandIn
) -> None:
    helm.expect(
        *HISTORY,
        stdout=history(
            [(3, "superseded", OLD, "Install complete"), (4, "deployed", OLD, "Upgrade complete")]
        ),
    )
    helm.expect(
        *UPGRADE,
        "--values=values.yaml",
        "--wait",
        "--timeout=300s",
        stdout=release("web", "shop", 5, chart=NEW),
    )
    upgrade = registry.get("helm.upgrade")
    args = upgrade.parse_args({**WEB, "chart": "example/web", "version": "1.4.0", "values": INLINE_VALUES})

    result = await upgrade.run(args)
    step = upgrade.rollback(args, result)

    assert (
        result.summary == "upgraded shop/web to revision 5 (web-1.4.0, deployed); was revision 4 (web-1.3.0)"
    )
    assert result.data["previous_revision"] == 4
    assert step is not None
    assert (step.action, step.args) == ("helm.rollback", {**WEB, "revision": 4})
    assert step.description == "roll shop/web back to revision 4 (web-1.3.0)"

    helm.expect(
        *HISTORY,
        stdout=history([(3, "superseded", OLD, "x"), (4, "superseded", OLD, "x"), (5, "deployed", NEW, "x")]),
    )
    helm.expect(
        "rollback",
        "web",
        "4",
        "--namespace=shop",
        "--wait",
        "--timeout=300s",
        stdout="Rollback was a success! Happy Helming!\n",
    )
    helm.expect(*STATUS, stdout=_status(6))

    undone = await run(registry, step.action, step.args)

    assert undone.summary == "rolled shop/web back to revision 4 (web-1.3.0): now revision 6, deployed"
    assert undone.data | {"to_chart": None} == {
        **WEB,
        "from_revision": 5,
        "to_revision": 4,
        "to_chart": None,
        "revision": 6,
        "status": "deployed",
    }
    helm.assert_done()


async def test_the_rollback_of_a_first_install_is_an_uninstall(registry: Registry, helm: StandIn) -> None:
    helm.expect(*HISTORY, stderr=NOT_FOUND, exit_code=1)
    helm.expect(
        *UPGRADE, "--wait", "--timeout=300s", stdout=release("web", "shop", 1, description="Install complete")
    )
    upgrade = registry.get("helm.upgrade")
    args = upgrade.parse_args({**WEB, "chart": "example/web", "version": "1.4.0"})

    result = await upgrade.run(args)
    step = upgrade.rollback(args, result)

    assert result.summary == "upgraded shop/web to revision 1 (web-1.4.0, deployed); new install"
    assert step is not None
    assert (step.action, step.args) == ("helm.uninstall", WEB)
    helm.assert_done()


async def test_rollback_defaults_to_the_last_good_revision_and_rehearses_with_dry_run(
    registry: Registry, helm: StandIn
) -> None:
    rows = history(
        [(3, "superseded", OLD, "x"), (4, "superseded", OLD, "y"), (5, "failed", NEW, "Upgrade failed")]
    )
    helm.expect(*HISTORY, stdout=rows)
    helm.expect(
        "rollback",
        "web",
        "4",
        "--namespace=shop",
        "--dry-run",
        "--timeout=300s",
        stdout="Rollback was a success! Happy Helming!\n",
    )

    result = await run(registry, "helm.rollback", WEB, dry_run=True)

    assert result.summary == "dry run: would roll shop/web back from revision 5 to 4 (web-1.3.0)"
    helm.assert_done()


async def test_rollback_to_a_revision_the_release_does_not_have_runs_nothing(
    registry: Registry, helm: StandIn
) -> None:
    helm.expect(*HISTORY, stdout=history([(4, "superseded", OLD, "x"), (5, "deployed", NEW, "x")]))

    with pytest.raises(ToolError, match=r"^shop/web has no revision 9 \(it has 4, 5\)$"):
        await run(registry, "helm.rollback", {**WEB, "revision": 9})

    helm.assert_done()


async def test_uninstall_is_high_risk_has_no_rollback_and_a_dry_run(
    registry: Registry, helm: StandIn
) -> None:
    uninstall = registry.get("helm.uninstall")
    args = uninstall.parse_args({**WEB, "wait": False})
    helm.expect(*STATUS, stdout=_status(5))
    helm.expect(
        "uninstall",
        "web",
        "--namespace=shop",
        "--dry-run",
        "--timeout=300s",
        stdout='release "web" uninstalled\n',
    )
    helm.expect(*STATUS, stdout=_status(5))
    helm.expect(
        "uninstall", "web", "--namespace=shop", "--timeout=300s", stdout='release "web" uninstalled\n'
    )

    rehearsal = await uninstall.dry_run(args)
    result = await uninstall.run(args)

    assert uninstall.risk is RiskHint.HIGH
    assert rehearsal.summary == "dry run: would uninstall shop/web (revision 5, deployed)"
    assert result.summary == "uninstalled shop/web (revision 5, deployed)"
    assert uninstall.rollback(args, result) is None
    helm.assert_done()


@pytest.mark.parametrize(
    ("action", "argv"),
    [
        ("helm.status", STATUS),
        ("helm.get_history", ["history", "web", "--namespace=shop", "--max=20", "--output=json"]),
        ("helm.get_values", ["get", "values", "web", "--namespace=shop", "--output=json"]),
        ("helm.uninstall", STATUS),
    ],
)
async def test_a_release_that_does_not_exist_is_named(
    registry: Registry, helm: StandIn, action: str, argv: list[str]
) -> None:
    helm.expect(*argv, stderr=NOT_FOUND, exit_code=1)

    with pytest.raises(ToolError) as raised:
        await run(registry, action, WEB)

    assert raised.value.message == "helm release shop/web not found"
    assert raised.value.status == 1
    assert raised.value.call == f"helm {argv[0]}"
    helm.assert_done()


async def test_a_release_removed_meanwhile_is_named_by_uninstall(registry: Registry, helm: StandIn) -> None:
    helm.expect(*STATUS, stdout=_status(5))
    gone = "Error: uninstall: Release not loaded: web: release: not found\n"
    helm.expect("uninstall", "web", "--namespace=shop", "--wait", "--timeout=300s", stderr=gone, exit_code=1)

    with pytest.raises(ToolError, match=r"^helm release shop/web not found$"):
        await run(registry, "helm.uninstall", WEB)

    helm.assert_done()


async def test_other_helm_errors_carry_helms_own_sentence(registry: Registry, helm: StandIn) -> None:
    unreachable = (
        'Error: Kubernetes cluster unreachable: Get "https://10.0.0.1:6443/version": '
        "dial tcp 10.0.0.1:6443: connect: connection refused\n"
    )
    helm.expect(*STATUS, stderr=unreachable, exit_code=1)

    with pytest.raises(ToolError) as raised:
        await run(registry, "helm.status", WEB)

    assert raised.value.message == f"helm: `helm status web` exited 1: {unreachable.strip()}"
    assert raised.value.status == 1


@pytest.mark.parametrize(
    ("stdout", "message"),
    [
        ('Release "web" has been upgraded. Happy Helming!\n', "printed output that is not JSON: 'Release"),
        (
            '{"name": "web", "info": {"status": "deployed"}}',
            "printed JSON of an unexpected shape (KeyError: 'namespace')",
        ),
    ],
)
async def test_output_that_is_not_helms_json_is_a_readable_error(
    registry: Registry, helm: StandIn, stdout: str, message: str
) -> None:
    helm.expect(*STATUS, stdout=stdout)

    with pytest.raises(ToolError) as raised:
        await run(registry, "helm.status", WEB)

    assert raised.value.message.startswith("helm: `helm status` ")
    assert message in raised.value.message


async def test_a_hung_helm_is_killed_at_the_time_limit(helm: StandIn, environ: dict[str, str]) -> None:
    helm.expect(*STATUS, hang=True)
    client = HelmClient(CliRunner.resolve(["helm"], environ=environ), env={}, time_limit=0.5)

    with pytest.raises(ToolError, match=r"^helm: timed out after 0\.5s and was killed$"):
        await run(Registry(actions(client, ValuesWriter())), "helm.status", WEB)

    assert not _alive(helm.calls[0].pid)


async def test_a_dry_run_gets_the_read_time_limit_not_the_waits(
    helm: StandIn, environ: dict[str, str]
) -> None:
    expect_diff_reads(helm, 5)
    helm.expect(*UPGRADE, "--dry-run", "--timeout=1800s", hang=True)
    client = HelmClient(CliRunner.resolve(["helm"], environ=environ), env={}, time_limit=0.5)
    raw = {**WEB, "chart": "example/web", "version": "1.4.0", "timeout_seconds": 1800}

    with pytest.raises(ToolError, match=r"^helm: timed out after 0\.5s and was killed$"):
        await run(Registry(actions(client, ValuesWriter())), "helm.get_diff", raw)

    assert not _alive(helm.calls[2].pid)


async def test_a_value_starting_with_a_dash_never_reaches_helm(
    helm: StandIn, environ: dict[str, str]
) -> None:
    client = HelmClient(CliRunner.resolve(["helm"], environ=environ), env={})

    with pytest.raises(ToolError, match="starts with '-' and would be read as an option"):
        await client.status(ReleaseRef("shop", "--kube-apiserver=https://evil.example"))

    assert helm.calls == []


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


@pytest.fixture
def values_repo(tmp_path: Path) -> Path:
    return values_repository(tmp_path)


async def test_values_from_git_are_read_at_the_named_revision_before_inline_values(
    helm: StandIn, environ: dict[str, str], values_repo: Path
) -> None:
    allowed = Registry(toolset({**environ, "HELM_VALUES_GIT_REPOS": f"file://{values_repo.parent}"}).actions)
    helm.expect(*HISTORY, stdout=history([(4, "deployed", OLD, "x")]))
    helm.expect(
        *UPGRADE,
        "--values=values-repo/prod/web.yaml",
        "--values=values.yaml",
        "--wait",
        "--timeout=300s",
        stdout=release("web", "shop", 5),
    )

    await run(
        allowed,
        "helm.upgrade",
        {
            **WEB,
            "chart": "example/web",
            "version": "1.4.0",
            "values": INLINE_VALUES,
            "values_git": f"file://{values_repo}@v1:prod/web.yaml",
        },
    )

    files = helm.calls[1].files
    assert files["values-repo/prod/web.yaml"] == "replicaCount: 4\n"
    assert files["values.yaml"] == INLINE_VALUES
    helm.assert_done()


@pytest.mark.parametrize(
    ("allowed", "message"),
    [
        (None, "values_git: set HELM_VALUES_GIT_REPOS to allow values from git"),
        ("file:///elsewhere", "is not listed in HELM_VALUES_GIT_REPOS"),
    ],
)
async def test_values_from_a_repository_that_is_not_allowed_are_refused(
    helm: StandIn, environ: dict[str, str], values_repo: Path, allowed: str | None, message: str
) -> None:
    settings = environ | ({"HELM_VALUES_GIT_REPOS": allowed} if allowed else {})
    helm.expect(*HISTORY, stdout=history([(4, "deployed", OLD, "x")]))

    with pytest.raises(ToolError, match=re.escape(message)):
        await run(
            Registry(toolset(settings).actions),
            "helm.upgrade",
            {**WEB, "chart": "example/web", "values_git": f"file://{values_repo}@main:prod/web.yaml"},
        )

    helm.assert_done()


UPGRADE_BASE = {**WEB, "chart": "example/web"}


@pytest.mark.parametrize(
    "raw",
    [
        UPGRADE_BASE,
        {**UPGRADE_BASE, "chart": "oci://registry.example:5000/charts/web", "version": "v1.4.0-rc.1+build.7"},
        {**UPGRADE_BASE, "chart": "https://charts.example/web/web-1.4.0.tgz"},
        {**UPGRADE_BASE, "release": "web.v2-" + "a" * 46, "values": "{}"},
        {**UPGRADE_BASE, "values_git": "git@github.com:org/deploy.git@release/2024:prod/web.yaml"},
    ],
)
def test_upgrade_args_accept_helm_names_and_chart_references(registry: Registry, raw: dict[str, Any]) -> None:
    assert registry.get("helm.upgrade").parse_args(raw)


@pytest.mark.parametrize(
    "raw",
    [
        {**UPGRADE_BASE, "release": "-web"},
        {**UPGRADE_BASE, "release": "Web"},
        {**UPGRADE_BASE, "release": "a" * 54},
        {**UPGRADE_BASE, "namespace": "shop.eu"},
        {**UPGRADE_BASE, "chart": "--kubeconfig=/etc/shadow"},
        {**UPGRADE_BASE, "chart": "./charts/web"},
        {**UPGRADE_BASE, "chart": "/srv/charts/web"},
        {**UPGRADE_BASE, "chart": "http://charts.example/web-1.4.0.tgz"},
        {**UPGRADE_BASE, "version": "^1.4"},
        {**UPGRADE_BASE, "version": "--devel"},
        {**UPGRADE_BASE, "values": "- a\n- list\n"},
        {**UPGRADE_BASE, "values": "key: [unclosed\n"},
        {**UPGRADE_BASE, "values_git": "https://git.example/deploy.git:prod.yaml"},
        {**UPGRADE_BASE, "values_git": "https://git.example/deploy.git@main:../../etc/passwd"},
        {**UPGRADE_BASE, "values_git": "https://git.example/deploy.git@-main:prod.yaml"},
        {**UPGRADE_BASE, "timeout_seconds": 0},
        {**UPGRADE_BASE, "force": True},
    ],
)
def test_upgrade_args_reject_what_helm_or_policy_must_not_see(
    registry: Registry, raw: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        registry.get("helm.upgrade").parse_args(raw)


def test_toolset_names_its_actions_and_where_helm_is(environ: dict[str, str], helm: StandIn) -> None:
    built = toolset(environ)

    assert [action.name for action in built.actions] == [
        "helm.list_releases",
        "helm.status",
        "helm.get_history",
        "helm.get_values",
        "helm.get_diff",
        "helm.upgrade",
        "helm.rollback",
        "helm.uninstall",
    ]
    assert built.status == f"enabled, {helm.path}, prod-eu"


def test_helm_bin_names_a_binary_outside_path(environ: dict[str, str], bin_dir: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "opt"
    elsewhere.mkdir()
    custom = StandIn(elsewhere, "helm-3.15")

    built = toolset({"HELM_BIN": str(custom.path), "PATH": "/usr/bin:/bin"})

    assert built.status == f"enabled, {custom.path}, the kubeconfig's current context"


@pytest.mark.parametrize(
    "environ", [{}, {"HELM_ENABLED": ""}, {"HELM_ENABLED": "0"}, {"HELM_ENABLED": "false"}]
)
def test_helm_is_left_out_unless_asked_for(environ: dict[str, str]) -> None:
    with pytest.raises(NotConfigured):
        toolset({"PATH": "/usr/bin:/bin", **environ})


def test_a_missing_helm_stops_start_up_with_one_line(tmp_path: Path) -> None:
    with pytest.raises(ToolError) as raised:
        toolset({"HELM_ENABLED": "1", "PATH": str(tmp_path)})

    assert raised.value.message == f"helm: binary not found on PATH ({tmp_path}); set HELM_BIN to helm's path"


def test_a_bad_setting_is_named(environ: dict[str, str]) -> None:
    with pytest.raises(ToolError, match=r"^helm: HELM_ENABLED: Input should be a valid boolean"):
        toolset({**environ, "HELM_ENABLED": "maybe"})
