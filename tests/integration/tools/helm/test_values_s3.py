"""Helm values read from S3 (`values_s3`): the helm tool built through its entry point, reading through
boto3 from moto's server, and the stand-in helm recording the exact values files it was given."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.fakes.cli_standins import StandIn
from tests.fakes.helm_output import deployment_manifest, history, release
from tests.fakes.moto_server import MotoServer
from tests.integration.tools.helm.support import (
    HISTORY,
    INLINE_VALUES,
    OLD,
    UPGRADE,
    WEB,
    expect_diff_reads,
    run,
    standin_environ,
    values_repository,
)
from tools.common.base import ToolError
from tools.common.registry import Registry
from tools.helm import toolset
from tools.helm.values_s3 import MAX_S3_VALUES_BYTES, S3ValuesRef

BUCKET = "configs"
KEY = "prod/web.yaml"
FIRST, LATEST = b"replicaCount: 2\nimage:\n  tag: 2.0.0\n", b"replicaCount: 5\nimage:\n  tag: 2.1.0\n"
UPGRADE_WEB = {**WEB, "chart": "example/web", "version": "1.4.0"}
RENDERED = release(
    "web", "shop", 5, description="Dry run complete", manifest=deployment_manifest("web", image="w")
)


@pytest.fixture
def helm(tmp_path: Path) -> StandIn:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    return StandIn(bin_dir, "helm")


@pytest.fixture
def environ(helm: StandIn, tmp_path: Path, moto: MotoServer) -> dict[str, str]:
    """The stand-in helm, moto's endpoint and keys, and two allowed buckets (one never created)."""
    return standin_environ(helm.path.parent, tmp_path) | moto.environ(
        HELM_VALUES_S3_BUCKETS=f"{BUCKET}, missing-bucket"
    )


@pytest.fixture
def versions(moto: MotoServer) -> list[str]:
    """`configs` with versioning on and prod/web.yaml written twice; its version ids, oldest first."""
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return [s3.put_object(Bucket=BUCKET, Key=KEY, Body=body)["VersionId"] for body in (FIRST, LATEST)]


@asynccontextmanager
async def helm_tools(environ: dict[str, str]) -> AsyncIterator[Registry]:
    """The entry point's actions, with its boto3 clients closed afterwards."""
    built = toolset(environ)
    try:
        yield Registry(built.actions)
    finally:
        await built.aclose()


@pytest.fixture
async def tools(environ: dict[str, str]) -> AsyncIterator[Registry]:
    async with helm_tools(environ) as registry:
        yield registry


async def test_s3_values_go_between_git_and_inline_values_and_the_version_read_is_recorded(
    helm: StandIn, environ: dict[str, str], versions: list[str], tmp_path: Path
) -> None:
    repo = values_repository(tmp_path)
    helm.expect(*HISTORY, stdout=history([(4, "deployed", OLD, "x")]))
    helm.expect(
        *UPGRADE,
        "--values=values-repo/prod/web.yaml",
        "--values=values-s3.yaml",
        "--values=values.yaml",
        "--wait",
        "--timeout=300s",
        stdout=release("web", "shop", 5),
    )
    settings = environ | {"HELM_VALUES_GIT_REPOS": f"file://{repo.parent}"}
    async with helm_tools(settings) as tools:
        upgrade = tools.get("helm.upgrade")
        args = upgrade.parse_args(
            {
                **UPGRADE_WEB,
                "values": INLINE_VALUES,
                "values_git": f"file://{repo}@v1:prod/web.yaml",
                "values_s3": f"s3://{BUCKET}/{KEY}",
            }
        )

        result = await upgrade.run(args)

    files = helm.calls[1].files
    assert files["values-repo/prod/web.yaml"] == "replicaCount: 4\n"
    assert files["values-s3.yaml"] == LATEST.decode()
    assert files["values.yaml"] == INLINE_VALUES
    assert result.data["values_s3"] == {
        "uri": f"s3://{BUCKET}/{KEY}",
        "version_id": versions[1],
        "etag": _etag(LATEST),
        "size": len(LATEST),
    }
    step = upgrade.rollback(args, result)
    assert step is not None
    assert (step.action, step.args) == ("helm.rollback", {**WEB, "revision": 4})
    helm.assert_done()


async def test_a_pinned_version_is_the_one_the_diff_renders_with(
    tools: Registry, helm: StandIn, versions: list[str]
) -> None:
    expect_diff_reads(helm, 4)
    helm.expect(*UPGRADE, "--values=values-s3.yaml", "--dry-run", "--timeout=300s", stdout=RENDERED)

    result = await run(
        tools, "helm.get_diff", {**UPGRADE_WEB, "values_s3": f"s3://{BUCKET}/{KEY}?versionId={versions[0]}"}
    )

    assert helm.calls[2].files == {"values-s3.yaml": FIRST.decode()}
    assert result.data["values_s3"]["version_id"] == versions[0]
    assert result.data["values_s3"]["etag"] == _etag(FIRST)
    helm.assert_done()


async def test_an_upgrade_dry_run_reads_an_unversioned_bucket_and_records_its_etag(
    tools: Registry, helm: StandIn, moto: MotoServer
) -> None:
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="web.yaml", Body=b"{}\n")
    expect_diff_reads(helm, 4)
    helm.expect(*UPGRADE, "--values=values-s3.yaml", "--dry-run", "--timeout=300s", stdout=RENDERED)

    result = await run(
        tools, "helm.upgrade", {**UPGRADE_WEB, "values_s3": f"s3://{BUCKET}/web.yaml"}, dry_run=True
    )

    assert result.summary.startswith("dry run: shop/web (revision 4) → web-1.4.0")
    assert result.data["values_s3"] == {
        "uri": f"s3://{BUCKET}/web.yaml",
        "version_id": None,
        "etag": _etag(b"{}\n"),
        "size": 3,
    }
    helm.assert_done()


async def test_an_upgrade_without_s3_values_records_none(tools: Registry, helm: StandIn) -> None:
    helm.expect(*HISTORY, stdout=history([(4, "deployed", OLD, "x")]))
    helm.expect(*UPGRADE, "--wait", "--timeout=300s", stdout=release("web", "shop", 5))

    result = await run(tools, "helm.upgrade", UPGRADE_WEB)

    assert "values_s3" not in result.data
    helm.assert_done()


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (
            "s3://missing-bucket/web.yaml",
            "values_s3 s3://missing-bucket/web.yaml: s3:GetObject in us-east-1 failed: "
            "NoSuchBucket: The specified bucket does not exist",
        ),
        (
            f"s3://{BUCKET}/prod/api.yaml",
            f"values_s3 s3://{BUCKET}/prod/api.yaml: s3:GetObject in us-east-1 failed: "
            "NoSuchKey: The specified key does not exist.",
        ),
        (
            f"s3://{BUCKET}/{KEY}?versionId=0b8e2a5c-gone",
            f"values_s3 s3://{BUCKET}/{KEY}?versionId=0b8e2a5c-gone: s3:GetObject in us-east-1 failed: "
            "NoSuchVersion: The specified version does not exist.",
        ),
    ],
)
async def test_what_s3_does_not_have_is_named_and_helm_never_runs_the_upgrade(
    tools: Registry, helm: StandIn, versions: list[str], uri: str, message: str
) -> None:
    helm.expect(*HISTORY, stdout=history([(4, "deployed", OLD, "x")]))

    with pytest.raises(ToolError) as raised:
        await run(tools, "helm.upgrade", {**UPGRADE_WEB, "values_s3": uri})

    assert raised.value.message == message
    assert (raised.value.call, raised.value.status) == ("s3:GetObject", 404)
    helm.assert_done()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            b"x" * (MAX_S3_VALUES_BYTES + 1),
            f"the object is {MAX_S3_VALUES_BYTES + 1} bytes; values from S3 are ",
        ),
        (b"replicaCount: [3\n", "values are not valid YAML: expected ',' or ']', but got '<stream end>'"),
        (b"- replicaCount\n- 3\n", "values must be a YAML mapping of keys to values"),
        (b"", "values must be a YAML mapping of keys to values"),
        (b"image: caf\xe9\n", "the object is not UTF-8 text"),
    ],
)
async def test_an_object_that_is_too_large_or_not_a_values_mapping_is_refused(
    tools: Registry, helm: StandIn, moto: MotoServer, body: bytes, problem: str
) -> None:
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="web.yaml", Body=body)
    expect_diff_reads(helm, 4)

    with pytest.raises(ToolError) as raised:
        await run(tools, "helm.get_diff", {**UPGRADE_WEB, "values_s3": f"s3://{BUCKET}/web.yaml"})

    assert raised.value.message.startswith(f"values_s3 s3://{BUCKET}/web.yaml: {problem}")
    helm.assert_done()


@pytest.mark.parametrize(
    ("buckets", "message"),
    [
        (None, "values_s3: set HELM_VALUES_S3_BUCKETS to allow values from S3"),
        ("configs-staging", "values_s3: bucket configs is not listed in HELM_VALUES_S3_BUCKETS"),
    ],
)
async def test_s3_values_are_refused_unless_their_bucket_is_allowed(
    helm: StandIn, environ: dict[str, str], versions: list[str], buckets: str | None, message: str
) -> None:
    settings = {k: v for k, v in environ.items() if k != "HELM_VALUES_S3_BUCKETS"}
    settings |= {"HELM_VALUES_S3_BUCKETS": buckets} if buckets else {}
    helm.expect(*HISTORY, stdout=history([(4, "deployed", OLD, "x")]))

    async with helm_tools(settings) as tools:
        with pytest.raises(ToolError) as raised:
            await run(tools, "helm.upgrade", {**UPGRADE_WEB, "values_s3": f"s3://{BUCKET}/{KEY}"})

    assert raised.value.message == message
    helm.assert_done()


async def test_credentials_without_read_access_are_access_denied(
    helm: StandIn, environ: dict[str, str], versions: list[str], moto: MotoServer
) -> None:
    keys = _user_keys(moto, allowed_actions=["s3:ListBucket"])
    helm.expect(*HISTORY, stdout=history([(4, "deployed", OLD, "x")]))

    with _iam_checks(moto):
        async with helm_tools(environ | keys) as tools:
            with pytest.raises(ToolError) as raised:
                await run(tools, "helm.upgrade", {**UPGRADE_WEB, "values_s3": f"s3://{BUCKET}/{KEY}"})

    assert raised.value.message == (
        f"values_s3 s3://{BUCKET}/{KEY}: s3:GetObject in us-east-1 failed: AccessDenied: Access Denied"
    )
    assert raised.value.status == 403
    helm.assert_done()


async def test_the_keys_from_the_toolsets_environment_sign_the_read(
    helm: StandIn, environ: dict[str, str], versions: list[str], moto: MotoServer
) -> None:
    keys = _user_keys(moto, allowed_actions=["s3:GetObject"])
    expect_diff_reads(helm, 4)
    helm.expect(*UPGRADE, "--values=values-s3.yaml", "--dry-run", "--timeout=300s", stdout=RENDERED)

    with _iam_checks(moto):
        async with helm_tools(environ | keys) as tools:
            result = await run(tools, "helm.get_diff", {**UPGRADE_WEB, "values_s3": f"s3://{BUCKET}/{KEY}"})

    assert result.data["values_s3"]["version_id"] == versions[1]
    helm.assert_done()


S3_BASE = {**WEB, "chart": "example/web"}


@pytest.mark.parametrize(
    "uri",
    [
        "s3://configs/prod/web.yaml",
        "s3://my.configs-2/web.values.yaml",
        "s3://configs/prod/web.yaml?versionId=3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo",
        "s3://configs/prod/web.yaml?versionId=null",
    ],
)
def test_values_s3_accepts_s3_uris_with_an_optional_version(tools: Registry, uri: str) -> None:
    assert tools.get("helm.upgrade").parse_args({**S3_BASE, "values_s3": uri})


@pytest.mark.parametrize(
    "uri",
    [
        "https://configs.s3.amazonaws.com/prod/web.yaml",
        "s3://Configs/prod/web.yaml",
        "s3://co/web.yaml",
        "s3://configs/",
        "s3://configs//etc/passwd",
        "s3://configs/prod/web values.yaml",
        "s3://configs/prod/web.yaml?versionId=",
        "s3://configs/prod/web.yaml?versionId=abc&partNumber=2",
        "s3://configs/prod/web.yaml?versionId=%00abc",
        "s3://configs/prod/web.yaml?acl",
    ],
)
def test_values_s3_rejects_what_is_not_an_s3_object_uri(tools: Registry, uri: str) -> None:
    with pytest.raises(ValidationError, match="values_s3"):
        tools.get("helm.upgrade").parse_args({**S3_BASE, "values_s3": uri})


def test_a_percent_encoded_version_is_decoded_and_a_plus_stays_a_plus() -> None:
    assert S3ValuesRef.parse("s3://configs/web.yaml?versionId=a%2Bb+c%2Fd").version_id == "a+b+c/d"


async def test_the_toolset_names_the_buckets_it_reads_and_closes_its_clients(environ: dict[str, str]) -> None:
    built = toolset(environ)

    assert built.status.endswith(", prod-eu, values from S3 buckets configs, missing-bucket")
    assert len(built.closers) == 1
    await built.aclose()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"AWS_REGION": None},
            "helm: HELM_VALUES_S3_BUCKETS needs AWS_REGION (and AWS credentials) to read from S3",
        ),
        (
            {"HELM_VALUES_S3_BUCKETS": "configs,Team_Values"},
            "helm: HELM_VALUES_S3_BUCKETS: 'Team_Values' is not",
        ),
        ({"AWS_REGION": "europe"}, "helm: AWS_REGION: String should match pattern"),
        ({"AWS_SECRET_ACCESS_KEY": None}, "helm: AWS_SECRET_ACCESS_KEY: required with its pair"),
    ],
)
def test_bad_s3_settings_stop_start_up_naming_the_variable(
    environ: dict[str, str], change: dict[str, str | None], message: str
) -> None:
    settings = {k: v for k, v in (environ | change).items() if v is not None}

    with pytest.raises(ToolError) as raised:
        toolset(settings)

    assert raised.value.message.startswith(message)
    assert raised.value.call == "configuration"


def _etag(body: bytes) -> str:
    """S3's ETag of a single-part upload: the MD5 of its bytes."""
    return hashlib.md5(body).hexdigest()


def _user_keys(moto: MotoServer, *, allowed_actions: list[str]) -> dict[str, str]:
    """Access keys of a new IAM user whose only policy allows `allowed_actions` on every resource."""
    iam = moto.client("iam")
    iam.create_user(UserName="deployer")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": allowed_actions, "Resource": "*"}],
    }
    iam.put_user_policy(UserName="deployer", PolicyName="values", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="deployer")["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


@contextmanager
def _iam_checks(moto: MotoServer) -> Iterator[None]:
    """moto evaluates IAM policies from the next request on, and stops again afterwards (the server is
    shared by the module and its reset does not touch this)."""
    _reset_auth(moto, "0")
    try:
        yield
    finally:
        _reset_auth(moto, "inf")


def _reset_auth(moto: MotoServer, unauthenticated_requests: str) -> None:
    request = urllib.request.Request(
        f"{moto.url}/moto-api/reset-auth",
        data=unauthenticated_requests.encode(),
        headers={"Content-Type": "text/plain"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
