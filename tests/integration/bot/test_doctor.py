"""`carapulse doctor` on a good deployment and on broken ones: the fake Slack, the fake Kubernetes
API and a real database, each broken the way an operator would break it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import main
from bot.doctor import DEFAULT_MANIFEST, diagnose
from bot.doctor_checks import Finding
from bot.playground.kubernetes.server import FakeKubernetes
from bot.playground.slack.web_api import FakeSlack
from tests.harness import bot_environment

MANIFEST_SCOPES: list[str] = yaml.safe_load(DEFAULT_MANIFEST.read_text())["oauth_config"]["scopes"]["bot"]


@dataclass
class Deployment:
    slack: FakeSlack
    environ: dict[str, str]
    set_env: Callable[[str, str], None]

    async def doctor(self, **changes: str) -> dict[str, Finding]:
        for name, value in changes.items():
            self.set_env(name, value)
            self.environ[name] = value
        findings = await diagnose(self.environ, socket=False, manifest=DEFAULT_MANIFEST)
        return {finding.check: finding for finding in findings}


@pytest.fixture
async def deployment(
    engine: AsyncEngine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Deployment]:
    """A migrated database, Slack granting the manifest's scopes, a Kubernetes API: all good."""
    async with FakeSlack() as slack, FakeKubernetes() as kube:
        slack.scopes = list(MANIFEST_SCOPES)
        environ = bot_environment(
            database_url=database_url, slack=slack, kubeconfig=kube.write_kubeconfig(tmp_path / "kubeconfig")
        )
        monkeypatch.delenv("CARAPULSE_CONFIG", raising=False)
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        yield Deployment(slack, environ, monkeypatch.setenv)


def failing(findings: dict[str, Finding]) -> list[str]:
    return [name for name, finding in findings.items() if finding.status == "FAIL"]


async def test_a_good_deployment_passes_every_check(deployment: Deployment) -> None:
    findings = await deployment.doctor()

    assert failing(findings) == []
    assert findings["configuration"].detail == "loaded; complete for HTTP mode"
    assert findings["migrations"].detail.startswith("at head ")
    assert findings["slack token"].detail == "authenticated as U0123BOTUSR in acme-sre (T0123ABCDEF)"
    assert findings["slack scopes"].detail == f"all {len(MANIFEST_SCOPES)} scopes of manifest.yml granted"
    assert findings["tool kubernetes"].detail.endswith("kubernetes.list_deployments answered")
    assert findings["policy"].status == "ok"
    assert [call.method for call in deployment.slack.calls] == ["auth.test"]


async def test_a_refused_token_is_named_with_the_fix(deployment: Deployment) -> None:
    findings = await deployment.doctor(SLACK_BOT_TOKEN="xoxb-0000-revoked-token")

    assert failing(findings) == ["slack token"]
    assert findings["slack token"].detail.startswith("auth.test answered invalid_auth; set SLACK_BOT_TOKEN")
    assert findings["slack scopes"].status == "skip"


async def test_a_missing_scope_is_named(deployment: Deployment) -> None:
    deployment.slack.scopes = [
        scope for scope in MANIFEST_SCOPES if scope not in ("channels:manage", "files:write")
    ]

    findings = await deployment.doctor()

    assert failing(findings) == ["slack scopes"]
    assert findings["slack scopes"].detail.startswith(
        "the token lacks channels:manage, files:write; add them"
    )


async def test_an_unreachable_database_is_named(deployment: Deployment) -> None:
    findings = await deployment.doctor(DATABASE_URL="postgresql+asyncpg://carapulse@127.0.0.1:1/carapulse")

    assert failing(findings) == ["database"]
    assert findings["database"].detail.startswith(
        "cannot connect to postgresql+asyncpg://carapulse@127.0.0.1:1/"
    )
    assert findings["database"].detail.endswith("check DATABASE_URL and that the server is up")
    assert findings["migrations"].status == "skip"


async def test_a_database_never_migrated_says_to_migrate(deployment: Deployment, tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()

    findings = await deployment.doctor(DATABASE_URL=f"sqlite+aiosqlite:///{empty}")

    assert failing(findings) == ["migrations"]
    assert "no revision (never migrated)" in findings["migrations"].detail
    assert findings["migrations"].detail.endswith("run `carapulse migrate`")


async def test_a_broken_policy_file_is_named(deployment: Deployment, tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "decision.rego").write_text("package carapulse\n\ndecision := {\n")

    findings = await deployment.doctor(POLICY_DIR=str(policies))

    assert failing(findings) == ["policy"]
    assert f"fix the Rego under {policies}" in findings["policy"].detail


async def test_an_unreachable_tool_is_named(deployment: Deployment) -> None:
    findings = await deployment.doctor(PROMETHEUS_URL="http://127.0.0.1:1")

    assert failing(findings) == ["tool prometheus"]
    assert findings["tool prometheus"].detail.startswith("prometheus.query failed: ")


def test_a_broken_configuration_stops_at_its_first_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CARAPULSE_CONFIG", raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-a-user-token")

    code = main(["doctor"])

    printed = capsys.readouterr().out.splitlines()
    assert code == 1
    assert printed == [
        "FAIL  configuration: SLACK_BOT_TOKEN is invalid: Value error, must be a bot token starting "
        "with xoxb-; fix it, then run doctor again",
        "skip  the rest: database, Slack, tools and policy need the configuration",
        "1 check failed",
    ]


async def test_oauth_installs_check_the_client_credentials_and_install_nothing(
    deployment: Deployment,
) -> None:
    deployment.slack.oauth.add_app("1234.5678", "app-secret")
    oauth = {"SLACK_BOT_TOKEN": "", "SLACK_CLIENT_ID": "1234.5678"}

    findings = await deployment.doctor(**oauth, SLACK_CLIENT_SECRET="app-secret")
    assert failing(findings) == []
    assert findings["slack app"].detail == "client id 1234.5678 and its secret accepted"
    assert "slack token" not in findings
    assert deployment.slack.oauth.issued == {}

    findings = await deployment.doctor(**oauth, SLACK_CLIENT_SECRET="not-the-secret")
    assert failing(findings) == ["slack app"]
    assert findings["slack app"].detail.startswith(
        "oauth.v2.access answered bad_client_secret; set SLACK_CLIENT_ID"
    )
