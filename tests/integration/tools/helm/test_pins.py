"""What a plan pins for a helm upgrade (the release's revision, the values' git commit and S3 object
version): the diff reports each value it read, and an upgrade or its dry run whose pinned value moved
stops before helm renders or installs anything. Stand-in helm, real git, S3 from moto's server."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fakes.cli_standins import StandIn
from tests.fakes.helm_output import NOT_FOUND, deployment_manifest, history, release
from tests.fakes.moto_server import MotoServer
from tests.integration.tools.helm.support import (
    HISTORY,
    NEW,
    OLD,
    STATUS,
    UPGRADE,
    WEB,
    commit_of,
    commit_values,
    run,
    standin_environ,
    values_repository,
)
from tools.common.base import ToolError
from tools.common.registry import Registry
from tools.helm import toolset

BUCKET, KEY = "configs", "prod/web.yaml"
UPGRADE_WEB = {**WEB, "chart": "example/web", "version": "1.4.0"}
RENDERED = release(
    "web", "shop", 6, description="Dry run complete", manifest=deployment_manifest("web", image="w")
)
DEPLOYED_4 = history([(3, "superseded", OLD, "x"), (4, "deployed", OLD, "Upgrade complete")])


@pytest.fixture
def helm(tmp_path: Path) -> StandIn:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    return StandIn(bin_dir, "helm")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return values_repository(tmp_path)


@pytest.fixture
def s3_versions(moto: MotoServer) -> list[str]:
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return [s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"replicaCount: 2\n")["VersionId"]]


@pytest.fixture
async def tools(helm: StandIn, tmp_path: Path, repo: Path, moto: MotoServer) -> AsyncIterator[Registry]:
    environ = standin_environ(helm.path.parent, tmp_path) | moto.environ(
        HELM_VALUES_S3_BUCKETS=BUCKET, HELM_VALUES_GIT_REPOS=f"file://{repo.parent}"
    )
    built = toolset(environ)
    try:
        yield Registry(built.actions)
    finally:
        await built.aclose()


def _sources(repo: Path) -> dict[str, str]:
    return {"values_git": f"file://{repo}@main:prod/web.yaml", "values_s3": f"s3://{BUCKET}/{KEY}"}


async def test_the_diff_reports_each_value_a_plan_pins_and_where_a_rollback_returns(
    tools: Registry, helm: StandIn, repo: Path, s3_versions: list[str]
) -> None:
    rows = [(3, "superseded", OLD, "x"), (4, "deployed", OLD, "x"), (5, "failed", NEW, "Upgrade failed")]
    helm.expect(*HISTORY, stdout=history(rows))
    helm.expect(*STATUS, stdout=release("web", "shop", 5, chart=None))
    files = ["--values=values-repo/prod/web.yaml", "--values=values-s3.yaml"]
    helm.expect(*UPGRADE, *files, "--dry-run", "--timeout=300s", stdout=RENDERED)

    result = await run(tools, "helm.get_diff", {**UPGRADE_WEB, **_sources(repo)})

    assert result.summary.startswith("shop/web (revision 5) → web-1.4.0: ")
    assert (result.data["current_revision"], result.data["previous_revision"]) == (5, 4)
    assert result.data["previous_chart"] == "web-1.3.0"
    assert result.data["values_git"] == {
        "ref": f"file://{repo}@main:prod/web.yaml",
        "commit": commit_of(repo, "main"),
    }
    assert result.data["values_s3"]["version_id"] == s3_versions[0]
    helm.assert_done()


async def test_an_upgrade_whose_pins_all_hold_installs_exactly_the_values_the_plan_read(
    tools: Registry, helm: StandIn, repo: Path, s3_versions: list[str]
) -> None:
    helm.expect(*HISTORY, stdout=DEPLOYED_4)
    files = ["--values=values-repo/prod/web.yaml", "--values=values-s3.yaml"]
    helm.expect(*UPGRADE, *files, "--wait", "--timeout=300s", stdout=release("web", "shop", 5, chart=NEW))
    pins = {
        "expected_revision": 4,
        "values_git_commit": commit_of(repo, "main"),
        "values_s3_version": s3_versions[0],
    }

    result = await run(tools, "helm.upgrade", {**UPGRADE_WEB, **_sources(repo), **pins})

    assert result.data["previous_revision"] == 4
    assert result.data["values_git"]["commit"] == pins["values_git_commit"]
    assert helm.calls[1].files == {
        "values-repo/prod/web.yaml": "replicaCount: 9\n",
        "values-s3.yaml": "replicaCount: 2\n",
    }
    helm.assert_done()


@pytest.mark.parametrize(
    ("pinned", "now", "message"),
    [
        (
            4,
            history([(4, "superseded", OLD, "x"), (5, "deployed", NEW, "x")]),
            "pinned revision 4, now revision 5",
        ),
        (
            4,
            history([(4, "deployed", OLD, "x"), (5, "failed", NEW, "x")]),
            "pinned revision 4, now revision 5",
        ),
        (0, history([(1, "deployed", NEW, "Install complete")]), "pinned not installed, now revision 1"),
        (4, None, "pinned revision 4, now not installed"),
    ],
)
async def test_an_upgrade_of_a_release_that_moved_since_the_plan_changes_nothing(
    tools: Registry, helm: StandIn, pinned: int, now: str | None, message: str
) -> None:
    if now is None:
        helm.expect(*HISTORY, stderr=NOT_FOUND, exit_code=1)
    else:
        helm.expect(*HISTORY, stdout=now)

    with pytest.raises(ToolError) as raised:
        await run(tools, "helm.upgrade", {**UPGRADE_WEB, "expected_revision": pinned})

    assert raised.value.message == (
        f"helm release shop/web changed since the plan was made ({message}); make a new plan"
    )
    assert raised.value.call == "helm history"
    helm.assert_done()


async def test_the_dry_run_refuses_a_moved_release_before_rendering(tools: Registry, helm: StandIn) -> None:
    helm.expect(*HISTORY, stdout=history([(4, "superseded", OLD, "x"), (5, "deployed", NEW, "x")]))

    with pytest.raises(
        ToolError, match=r"changed since the plan was made \(pinned revision 4, now revision 5\)"
    ):
        await run(tools, "helm.upgrade", {**UPGRADE_WEB, "expected_revision": 4}, dry_run=True)

    helm.assert_done()


async def test_values_committed_after_the_plan_stop_the_upgrade_before_helm_runs(
    tools: Registry, helm: StandIn, repo: Path
) -> None:
    planned = commit_of(repo, "main")
    moved = commit_values(repo, "prod/web.yaml", "replicaCount: 12\n")
    helm.expect(*HISTORY, stdout=DEPLOYED_4)
    raw = {**UPGRADE_WEB, "values_git": _sources(repo)["values_git"], "values_git_commit": planned}

    with pytest.raises(ToolError) as raised:
        await run(tools, "helm.upgrade", raw)

    assert raised.value.message == (
        f"values_git file://{repo}@main:prod/web.yaml changed since the plan was made "
        f"(pinned {planned}, now {moved}); make a new plan"
    )
    helm.assert_done()


async def test_a_new_s3_object_version_after_the_plan_stops_the_upgrade_before_helm_runs(
    tools: Registry, helm: StandIn, moto: MotoServer, s3_versions: list[str]
) -> None:
    newer = moto.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=b"replicaCount: 7\n")["VersionId"]
    helm.expect(*HISTORY, stdout=DEPLOYED_4)
    raw = {**UPGRADE_WEB, "values_s3": f"s3://{BUCKET}/{KEY}", "values_s3_version": s3_versions[0]}

    with pytest.raises(ToolError) as raised:
        await run(tools, "helm.upgrade", raw)

    assert raised.value.message == (
        f"values_s3 s3://{BUCKET}/{KEY} changed since the plan was made "
        f"(pinned {s3_versions[0]}, now {newer}); make a new plan"
    )
    assert raised.value.call == "s3:GetObject"
    helm.assert_done()


async def test_an_object_rewritten_in_a_bucket_without_versioning_is_caught_by_its_etag(
    tools: Registry, helm: StandIn, moto: MotoServer
) -> None:
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    planned = s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"replicaCount: 2\n")["ETag"].strip('"')
    now = s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"replicaCount: 3\n")["ETag"].strip('"')
    helm.expect(*HISTORY, stdout=DEPLOYED_4)
    raw = {**UPGRADE_WEB, "values_s3": f"s3://{BUCKET}/{KEY}", "values_s3_etag": planned}

    with pytest.raises(ToolError, match=re.escape(f"(pinned {planned}, now {now}); make a new plan")):
        await run(tools, "helm.upgrade", raw)

    helm.assert_done()


@pytest.mark.parametrize(
    ("pins", "message"),
    [
        ({"values_git_commit": "a" * 40}, "values_git_commit pins values_git, which is not set"),
        ({"values_s3_version": "v1"}, "values_s3_version pins values_s3, which is not set"),
        ({"values_s3_etag": "d41d8cd98f00b204e9800998ecf8427e"}, "values_s3_etag pins values_s3"),
        ({"values_git": "https://git.example/d.git@main:web.yaml", "values_git_commit": "main"}, "pattern"),
        ({"values_s3": "s3://configs/web.yaml", "values_s3_etag": '"quoted"'}, "pattern"),
        ({"expected_revision": -1}, "greater than or equal to 0"),
    ],
)
def test_pins_are_checked_with_the_arguments(tools: Registry, pins: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        tools.get("helm.upgrade").parse_args({**UPGRADE_WEB, **pins})
