"""The checks `carapulse doctor` runs, one function each, every one answering with Findings that
say what was found and, when it is wrong, what to change.

Each check touches what the service would touch at start-up and nothing more: it reads the
configuration, connects to the database without creating or migrating it, calls Slack's
`auth.test`, runs one read-only action of each configured tool, and compiles the policy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from slack_sdk.errors import SlackApiError
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot import library_files, slack_web, toolbox, workflows
from bot.api import service as api_service
from bot.context import mapping as context_mapping
from bot.db.engine import create_engine
from bot.db.migrate import current_revisions, head_revisions
from bot.errors import ConfigError
from bot.incident_setup import check as check_incidents
from bot.llm import configured
from bot.policy_engine import GuardedPolicy
from bot.settings import Settings, load_settings, require_for_http, require_for_socket
from bot.steps import run_action
from tools.common.base import ToolError
from tools.common.registry import Registry, installed_toolsets

Status = Literal["ok", "FAIL", "skip"]
CONNECT_SECONDS = 5.0
# One cheap read per tool that has one needing no names from this deployment: it proves the
# address, the credentials and the network path. Tools not listed are only checked for settings.
TOOL_PROBES: dict[str, tuple[str, dict[str, object]]] = {
    "alertmanager": ("alertmanager.list_silences", {}),
    "argocd": ("argocd.list_apps", {}),
    "boundary": ("boundary.targets_list", {}),
    "grafana": ("grafana.list_dashboards", {}),
    "helm": ("helm.list_releases", {}),
    "kubernetes": ("kubernetes.list_deployments", {"namespace": "default"}),
    "prometheus": ("prometheus.query", {"expr": "vector(1)"}),
    "vault": ("vault.get_health", {}),
}


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.check}: {self.detail}"


async def configuration(*, socket: bool, environ: Mapping[str, str]) -> tuple[Settings | None, Finding]:
    """The settings, checked as `serve` checks them before it opens anything."""
    try:
        settings = load_settings()
        if socket:
            require_for_socket(settings)
        else:
            require_for_http(settings)
        api_service.workspace(settings)
        configured.check(settings, environ)
        catalog = workflows.build_catalog(
            settings.workflows_dir, environments=settings.configured_environments()
        )
        check_incidents(settings, catalog)
        context_mapping.load(settings.context_mapping_file)
        if settings.library_dir is not None:
            await library_files.load(settings.library_dir, catalog=catalog)
    except ConfigError as exc:
        return None, Finding("configuration", "FAIL", f"{exc.message}; fix it, then run doctor again")
    mode = "Socket Mode" if socket else "HTTP mode"
    return settings, Finding("configuration", "ok", f"loaded; complete for {mode}")


async def database(settings: Settings) -> list[Finding]:
    """Reachable, and at the schema head this version needs; a missing SQLite file is reported,
    not created."""
    url = make_url(settings.database_url)
    if (
        url.get_backend_name() == "sqlite"
        and url.database
        and not await asyncio.to_thread(Path(url.database).is_file)
    ):
        return [
            Finding(
                "database",
                "FAIL",
                f"SQLite file {url.database} does not exist; check DATABASE_URL, "
                "or run `carapulse migrate` to create it",
            ),
            Finding("migrations", "skip", "no database to read"),
        ]
    engine = create_engine(settings.database_url)
    try:
        async with asyncio.timeout(CONNECT_SECONDS), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            current = await current_revisions(conn)
    except Exception as exc:
        where = url.render_as_string(hide_password=True)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [
            Finding(
                "database",
                "FAIL",
                f"cannot connect to {where}: {reason}; check DATABASE_URL and that the server is up",
            ),
            Finding("migrations", "skip", "database unreachable"),
        ]
    finally:
        await engine.dispose()
    heads = head_revisions()
    found = Finding("database", "ok", f"connected to {url.render_as_string(hide_password=True)}")
    if current == heads:
        return [found, Finding("migrations", "ok", f"at head {', '.join(sorted(heads))}")]
    at = ", ".join(sorted(current)) or "no revision (never migrated)"
    return [
        found,
        Finding(
            "migrations",
            "FAIL",
            f"database is at {at}, this version needs {', '.join(sorted(heads))}; run `carapulse migrate`",
        ),
    ]


async def slack(settings: Settings, manifest: Path | None) -> list[Finding]:
    """`auth.test` for the bot token, and the scopes Slack says it holds against the manifest's;
    with OAuth installs, the app's client credentials."""
    if settings.oauth_installs:
        return [await _client_credentials(settings)]
    client = slack_web.slack_client(settings.slack_bot_token, settings.slack_api_url)
    try:
        answer = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown_error")
        return [
            Finding(
                "slack token",
                "FAIL",
                f"auth.test answered {error}; set SLACK_BOT_TOKEN to the app's Bot User OAuth Token",
            ),
            Finding("slack scopes", "skip", "the token was refused"),
        ]
    except Exception as exc:
        return [
            Finding(
                "slack token",
                "FAIL",
                f"no answer from {settings.slack_api_url}: {exc}; check SLACK_API_URL and the network",
            ),
            Finding("slack scopes", "skip", "Slack unreachable"),
        ]
    token = Finding(
        "slack token",
        "ok",
        f"authenticated as {answer.get('user_id')} in {answer.get('team')} ({answer.get('team_id')})",
    )
    return [token, _scopes(answer.headers.get("X-OAuth-Scopes"), manifest)]


async def _client_credentials(settings: Settings) -> Finding:
    """oauth.v2.access with a code no consent gave: Slack checks the client id and secret before the
    code, so `invalid_code` means they are right, and nothing is installed."""
    client = slack_web.slack_client(None, settings.slack_api_url)
    secret = settings.slack_client_secret.get_secret_value() if settings.slack_client_secret else ""
    try:
        await client.oauth_v2_access(
            client_id=settings.slack_client_id, client_secret=secret, code="carapulse-doctor"
        )
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown_error")
        if error == "invalid_code":
            return Finding("slack app", "ok", f"client id {settings.slack_client_id} and its secret accepted")
        return Finding(
            "slack app",
            "FAIL",
            f"oauth.v2.access answered {error}; "
            "set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET from the app's Basic Information",
        )
    except Exception as exc:
        return Finding(
            "slack app",
            "FAIL",
            f"no answer from {settings.slack_api_url}: {exc}; check SLACK_API_URL and the network",
        )
    return Finding("slack app", "FAIL", "oauth.v2.access accepted a code no one was given")


def _scopes(granted_header: str | None, manifest: Path | None) -> Finding:
    if manifest is None or not manifest.is_file():
        return Finding("slack scopes", "skip", "no manifest.yml to compare with; pass --manifest")
    try:
        wanted = set(yaml.safe_load(manifest.read_text())["oauth_config"]["scopes"]["bot"])
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        return Finding("slack scopes", "FAIL", f"{manifest} has no readable oauth_config.scopes.bot ({exc})")
    if granted_header is None:
        return Finding(
            "slack scopes", "FAIL", "Slack sent no X-OAuth-Scopes header, so the scopes cannot be checked"
        )
    granted = {scope.strip() for scope in granted_header.split(",") if scope.strip()}
    if missing := sorted(wanted - granted):
        return Finding(
            "slack scopes",
            "FAIL",
            f"the token lacks {', '.join(missing)}; add them under OAuth & Permissions "
            f"(or update the app from {manifest.name}) and reinstall it",
        )
    return Finding("slack scopes", "ok", f"all {len(wanted)} scopes of {manifest.name} granted")


async def tools(environ: Mapping[str, str]) -> list[Finding]:
    """Each configured tool, built as `serve` builds it and asked one read where it has a probe."""
    findings: list[Finding] = []
    disabled: list[str] = []
    for name, factory in sorted(installed_toolsets().items()):
        try:
            built, status = toolbox.configure(factory, environ)
        except ToolError as exc:
            findings.append(Finding(f"tool {name}", "FAIL", exc.message))
            continue
        if built is None:
            disabled.append(name)
            continue
        try:
            findings.append(await _probe(name, built.actions, status))
        finally:
            await built.aclose()
    if disabled:
        findings.append(
            Finding(
                "tools",
                "skip",
                f"not configured: {', '.join(disabled)} (`carapulse tools list` says what enables each)",
            )
        )
    return findings


async def _probe(name: str, actions: object, status: str) -> Finding:
    probe = TOOL_PROBES.get(name)
    if probe is None:
        return Finding(f"tool {name}", "ok", f"{status}; not contacted (no read-only probe)")
    action, args = probe
    outcome = await run_action(Registry(actions), action, dict(args))  # type: ignore[arg-type]
    if outcome.ok:
        return Finding(f"tool {name}", "ok", f"{status}; {action} answered")
    return Finding(
        f"tool {name}", "FAIL", f"{action} failed: {outcome.error}; check its address and credentials"
    )


def policy(settings: Settings) -> Finding:
    loaded = GuardedPolicy(settings.policy_dir)
    if loaded.load_error:
        return Finding(
            "policy",
            "FAIL",
            f"{loaded.load_error}; fix the Rego under {settings.policy_dir} "
            f"(`carapulse policy test --dir {settings.policy_dir}` shows the error)",
        )
    return Finding("policy", "ok", f"compiled from {settings.policy_dir}")
