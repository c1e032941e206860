"""Settings from the environment (and an optional YAML file named by CARAPULSE_CONFIG)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from bot.errors import ConfigError
from bot.policy_engine import EnvironmentConfig
from bot.verify_checks import VerifyCheck

PositiveSeconds = Annotated[float, Field(gt=0)]
Role = Literal["viewer", "operator", "approver", "admin"]
DEFAULT_POLICY_DIR = Path(__file__).resolve().parents[1] / "policies"

SLACK_API_URL = "https://slack.com/api/"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    slack_bot_token: str = Field(min_length=1)
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
    # Prometheus checks added to every plan's verify stage (bot/verify_checks.py).
    verify_checks: list[VerifyCheck] = Field(default_factory=list)
    # Per-environment workflow override files, <dir>/<environment>/<workflow>.yaml (bot/workflows).
    workflows_dir: Path | None = None
    # The context graph (bot/context): a mapping file of services, how often it is collected (0: only
    # on request), the AWS tag naming a resource's service, and how long snapshots are kept.
    context_mapping_file: Path | None = None
    context_refresh_seconds: float = Field(default=900.0, ge=0)
    context_aws_tag: str = Field(default="service", min_length=1, max_length=128)
    context_retention_days: float = Field(default=30.0, gt=0)
    log_level: str = "INFO"

    def configured_environments(self) -> dict[str, EnvironmentConfig]:
        """The configured environments, or just this deployment's own when none are listed."""
        return self.environments or {self.environment: EnvironmentConfig()}

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: str) -> str:
        if not value.startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("security_channel")
    @classmethod
    def _channel_id_shape(cls, value: str) -> str:
        if value and not (value[:1] in "CG" and value[1:].isalnum() and value.isupper()):
            raise ValueError("must be a Slack channel id such as C0123ABCDEF (not a #name)")
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
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_first_problem(exc)) from None


def require_for_http(settings: Settings) -> None:
    if not settings.slack_signing_secret:
        raise ConfigError("SLACK_SIGNING_SECRET is missing: HTTP mode needs it to verify requests")


def require_for_socket(settings: Settings) -> None:
    if not settings.slack_app_token:
        raise ConfigError("SLACK_APP_TOKEN is missing: --socket needs an xapp- app-level token")


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    name = str(error["loc"][0]).upper() if error["loc"] else "settings"
    if error["type"] == "missing":
        return f"{name} is missing"
    return f"{name} is invalid: {error['msg']}"
