"""Settings from the environment (and an optional YAML file named by CARAPULSE_CONFIG)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from bot.api.oidc_config import OidcProvider
from bot.approval_rules import EnvironmentApprovals
from bot.errors import ConfigError
from bot.incident_settings import IncidentSettings
from bot.llm.prices import ModelPrice
from bot.notification_rules import EnvironmentNotifications
from bot.plan_rate import PlanRate
from bot.policy_engine import EnvironmentConfig
from bot.verify_checks import VerifyCheck

PositiveSeconds = Annotated[float, Field(gt=0)]
Role = Literal["viewer", "operator", "approver", "admin"]
DEFAULT_POLICY_DIR = Path(__file__).resolve().parents[1] / "policies"

SLACK_API_URL = "https://slack.com/api/"
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(IncidentSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    # One workspace: its bot token. Many workspaces (OAuth installs, bot/oauth.py): the app's client id
    # and secret instead (oauth_installs); load_settings accepts one or the other.
    slack_bot_token: str = ""
    slack_client_id: str = ""
    slack_client_secret: SecretStr | None = None
    # Where Slack sends installers back; empty: the redirect URL configured in the app.
    slack_redirect_uri: str = Field(default="", pattern=r"^(https?://\S+)?$")
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = SLACK_API_URL
    database_url: str = "sqlite+aiosqlite:///carapulse.db"
    port: int = Field(default=3000, ge=0, le=65535)
    environment: str = Field(
        default="default",
        min_length=1,
        validation_alias=AliasChoices("CARAPULSE_ENVIRONMENT", "environment"),
    )
    cluster: str = Field(default="", validation_alias=AliasChoices("CARAPULSE_CLUSTER", "cluster"))
    roles: dict[str, list[Role]] = Field(default_factory=dict)
    # Slack user group id (S…) → roles; members are resolved with usergroups.users.list and cached.
    usergroup_roles: dict[str, list[Role]] = Field(default_factory=dict)
    usergroup_cache_seconds: PositiveSeconds = 300.0
    default_roles: list[Role] = Field(default_factory=lambda: ["viewer"])
    # Where break-glass notices go (a channel id); empty: only the plan's own thread hears of it.
    security_channel: str = ""
    environments: dict[str, EnvironmentConfig] = Field(default_factory=dict)
    policy_dir: Path = DEFAULT_POLICY_DIR
    approval_ttl_seconds: PositiveSeconds = 4 * 3600.0
    worker_lease_seconds: PositiveSeconds = 30.0
    worker_poll_seconds: PositiveSeconds = 2.0
    execution_timeout_seconds: PositiveSeconds = 3600.0
    card_update_interval_seconds: PositiveSeconds = 1.0
    # Minimum time between two publishes of one person's App Home tab.
    home_update_interval_seconds: PositiveSeconds = 5.0
    # Prometheus checks added to every plan's verify stage (bot/verify_checks.py).
    verify_checks: list[VerifyCheck] = Field(default_factory=list)
    # Per environment: typed confirmation, escalation and the approval window (bot/approval_rules.py).
    approvals: dict[str, EnvironmentApprovals] = Field(default_factory=dict)
    # Per environment: which plan events go to e-mail, the webhook and PagerDuty (bot/notifications.py).
    notify: dict[str, EnvironmentNotifications] = Field(default_factory=dict)
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_from: str = ""
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    notify_webhook_url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    notify_webhook_secret: SecretStr | None = None
    # Per-environment workflow override files, <dir>/<environment>/<workflow>.yaml (bot/workflows).
    workflows_dir: Path | None = None
    # The pipeline API (bot/api): served when API_CHANNEL names the channel its plans' cards go to;
    # API_TEAM_ID is the workspace its callers act in.
    api_channel: str = ""
    api_team_id: str = ""
    api_oidc_providers: list[OidcProvider] = Field(default_factory=list)
    # How often an event stream rereads its plan besides the wake-ups of this process's changes.
    api_events_recheck_seconds: PositiveSeconds = 5.0
    # The planner (bot/planners.py): the rules, or a model the rules planner stands in for when it
    # fails. The API key comes from the SDK's own variable (OPENAI_API_KEY, ANTHROPIC_API_KEY).
    planner: Literal["rules", "openai", "anthropic"] = "rules"
    planner_model: str = Field(default="", validate_default=True)
    # OpenAI only: chat completions (what OpenAI-compatible servers speak) or the Responses API.
    planner_api: Literal["chat", "responses"] = "chat"
    planner_base_url: str = ""
    planner_timeout_seconds: PositiveSeconds = 30.0
    planner_max_retries: int = Field(default=2, ge=0, le=10)
    planner_max_tokens: int = Field(default=4096, ge=256, le=200_000)
    # Model name → US dollars per million input and output tokens, for the cost metric and audit.
    planner_prices: dict[str, ModelPrice] = Field(default_factory=dict)
    investigate_max_calls: int = Field(default=8, ge=1, le=50)
    # Runbooks and playbooks as Markdown/YAML files (bot/library_files.py), read at start-up.
    library_dir: Path | None = None
    # The longest the scheduler sleeps before looking for schedules another replica made.
    scheduler_rescan_seconds: PositiveSeconds = 60.0
    # The context graph (bot/context): a mapping file of services, how often it is collected (0: only
    # on request), the AWS tag naming a resource's service, and how long snapshots are kept.
    context_mapping_file: Path | None = None
    context_refresh_seconds: float = Field(default=900.0, ge=0)
    context_aws_tag: str = Field(default="service", min_length=1, max_length=128)
    context_retention_days: float = Field(default=30.0, gt=0)
    log_level: str = "INFO"
    # On SIGTERM: how long the running step and the pending card edits get before the process exits
    # anyway (below Kubernetes' default terminationGracePeriodSeconds of 30).
    shutdown_grace_seconds: PositiveSeconds = 25.0
    # How many plans one person may ask for in a window: 10/minute, 100/2hours, or off.
    plan_rate_limit: str = "10/minute"
    # The largest body any HTTP endpoint reads (Slack's request URL, /hooks/*, /api/v1/*); larger: 413.
    max_request_bytes: int = Field(default=1024 * 1024, ge=16 * 1024, le=64 * 1024 * 1024)
    # json: one JSON object per line (for a log pipeline); text: for a terminal (bot/logs.py).
    log_format: Literal["json", "text"] = "text"

    def configured_environments(self) -> dict[str, EnvironmentConfig]:
        """The configured environments, or just this deployment's own when none are listed."""
        return self.environments or {self.environment: EnvironmentConfig()}

    @property
    def oauth_installs(self) -> bool:
        """Many workspaces install the app through OAuth (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET)."""
        return bool(self.slack_client_id)

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: str) -> str:
        if value and not value.startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("security_channel", "api_channel")
    @classmethod
    def _channel_id_shape(cls, value: str) -> str:
        if value and not (value[:1] in "CG" and value[1:].isalnum() and value.isupper()):
            raise ValueError("must be a Slack channel id such as C0123ABCDEF (not a #name)")
        return value

    @field_validator("api_team_id")
    @classmethod
    def _team_id_shape(cls, value: str) -> str:
        if value and not (value.startswith("T") and value.isalnum() and value.isupper()):
            raise ValueError("must be a Slack team id such as T0123ABCDEF")
        return value

    @field_validator("api_oidc_providers")
    @classmethod
    def _one_provider_per_issuer(cls, value: list[OidcProvider]) -> list[OidcProvider]:
        for key in ("name", "issuer"):
            seen = [getattr(provider, key) for provider in value]
            if twice := sorted({item for item in seen if seen.count(item) > 1}):
                raise ValueError(f"{key} {twice[0]} is listed twice")
        return value

    @field_validator("usergroup_roles")
    @classmethod
    def _usergroup_id_shape(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for group_id in value:
            if not (group_id.startswith("S") and group_id.isalnum() and group_id.isupper()):
                raise ValueError(f"{group_id!r} is not a Slack user group id (S0123ABCDEF)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: str) -> str:
        if value and not value.startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("plan_rate_limit")
    @classmethod
    def _rate_shape(cls, value: str) -> str:
        PlanRate.parse(value)
        return value

    @field_validator("planner_model")
    @classmethod
    def _model_named(cls, value: str, info: ValidationInfo) -> str:
        planner = info.data.get("planner", "rules")
        if planner != "rules" and not value.strip():
            raise ValueError(f"PLANNER={planner} needs the model's name")
        return value.strip()

    @field_validator("planner_base_url")
    @classmethod
    def _base_url_shape(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in _LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(_LOG_LEVELS)}")
        return value.upper()

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_ends_with_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_path = os.environ.get("CARAPULSE_CONFIG")
        if config_path:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_path))
        return tuple(sources)


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning the first validation problem into one line that names the variable."""
    config_path = os.environ.get("CARAPULSE_CONFIG")
    if config_path and not Path(config_path).is_file():
        raise ConfigError(f"CARAPULSE_CONFIG: file {config_path} does not exist")
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_first_problem(exc)) from None
    _require_slack_credentials(settings)
    return settings


def require_for_http(settings: Settings) -> None:
    if not settings.slack_signing_secret:
        raise ConfigError("SLACK_SIGNING_SECRET is missing: HTTP mode needs it to verify requests")


def require_api_team(settings: Settings) -> str:
    """The workspace API callers act in; the API and its token commands need it."""
    if not settings.api_team_id:
        raise ConfigError("API_TEAM_ID is missing: the API acts in one workspace; set its Slack team id (T…)")
    return settings.api_team_id


def require_for_socket(settings: Settings) -> None:
    if not settings.slack_app_token:
        raise ConfigError("SLACK_APP_TOKEN is missing: --socket needs an xapp- app-level token")


def _require_slack_credentials(settings: Settings) -> None:
    """One workspace (SLACK_BOT_TOKEN) or OAuth installs (SLACK_CLIENT_ID and _SECRET), not both."""
    client_id, client_secret = settings.slack_client_id, settings.slack_client_secret
    if bool(client_id) != bool(client_secret and client_secret.get_secret_value()):
        missing = "SLACK_CLIENT_SECRET" if client_id else "SLACK_CLIENT_ID"
        raise ConfigError(
            f"{missing} is missing: OAuth installs need SLACK_CLIENT_ID and SLACK_CLIENT_SECRET"
        )
    if not settings.oauth_installs:
        if not settings.slack_bot_token:
            raise ConfigError("SLACK_BOT_TOKEN is missing")
        return
    if settings.slack_bot_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN is set beside SLACK_CLIENT_ID: choose one workspace (the token) "
            "or OAuth installs (the client id and secret)"
        )
    # These act in one workspace that no Slack request names, so they need SLACK_BOT_TOKEN mode.
    if settings.hooks_enabled:
        raise ConfigError(
            "*_HOOK_TOKEN/*_HOOK_SECRET: the webhooks post to one workspace; use SLACK_BOT_TOKEN"
        )
    if settings.usergroup_roles:
        raise ConfigError("USERGROUP_ROLES reads one workspace's user groups: use SLACK_BOT_TOKEN")


def _first_problem(exc: ValidationError) -> str:
    """`PLANNER_PRICES is invalid: gpt-4.1.output is missing`: the variable, then where inside it."""
    error = exc.errors()[0]
    name = str(error["loc"][0]).upper() if error["loc"] else "settings"
    inside = ".".join(str(part) for part in error["loc"][1:])
    if error["type"] == "missing":
        return f"{name} is invalid: {inside} is missing" if inside else f"{name} is missing"
    return f"{name} is invalid: " + (f"{inside}: " if inside else "") + error["msg"]
