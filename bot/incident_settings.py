"""Settings of alert-driven incidents and the webhooks that feed them (`Settings` inherits these):
routing of services to channels, how alerts are grouped and throttled, what each service's
diagnostics read, configured remediations, and each webhook's credentials."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ChannelId = Annotated[str, StringConstraints(pattern=r"^[CG][A-Z0-9]{8,}$")]
ServiceName = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=253)]
DEFAULT_GROUP_LABELS = ("alertname", "service")


class ServiceConfig(BaseModel):
    """What Carapulse knows of one service beyond its alerts' labels."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    channel: ChannelId | None = None
    # Kubernetes: default the alert's `namespace` label (else "default") and the service's name.
    namespace: Name | None = None
    deployment: Name | None = None
    # Argo CD application and helm release read for the last deploys; the app's hook events are the
    # service's too.
    argocd_app: Name | None = None
    helm_release: Name | None = None
    # PagerDuty: the escalation policy whose on-call joins a dedicated incident channel, and the
    # service whose open incidents Acknowledge acknowledges.
    escalation_policy: Name | None = None
    pagerduty_service: Name | None = None
    dashboard_url: HttpUrl | None = None
    # Repositories (owner/name, group/project) whose push and deployment hooks are this service's.
    repositories: list[Name] = Field(default_factory=list)
    slow_trace_ms: Annotated[int, Field(ge=1, le=600_000)] = 500


class RemediationRule(BaseModel):
    """A remediation proposed for alerts matching `alertname` and `service` (either may be left out to
    match any): a workflow with its inputs, `{service}`, `{namespace}` and `{alertname}` filled in."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    alertname: str | None = None
    service: str | None = None
    workflow: Name
    inputs: dict[str, str] = Field(default_factory=dict)


class IncidentSettings(BaseSettings):
    # Built as part of Settings, which inherits these fields; never validated on its own at start-up.
    model_config = SettingsConfigDict(defer_build=True)

    incident_services: dict[ServiceName, ServiceConfig] = Field(default_factory=dict)
    # Where alerts of services not in INCIDENT_SERVICES (or without a channel there) go.
    incident_default_channel: ChannelId | None = None
    # Severities that get a channel of their own (inc-<yyyymmdd>-<service>) instead of a thread.
    incident_channel_severities: list[str] = Field(default_factory=lambda: ["critical"])
    incident_group_labels: Annotated[list[str], Field(min_length=1)] = Field(
        default_factory=lambda: list(DEFAULT_GROUP_LABELS)
    )
    incident_service_label: str = "service"
    # A group that fires again this soon after it resolved reopens its incident (its thread) instead
    # of opening a new one.
    incident_renotify_seconds: Annotated[float, Field(ge=0)] = 1800.0
    incident_remediations: list[RemediationRule] = Field(default_factory=list)
    # Webhook credentials: a bearer token, an HMAC-SHA256 secret (X-Carapulse-Signature: sha256=…),
    # or both (either passes). A hook with neither answers 404.
    alertmanager_hook_token: str = ""
    alertmanager_hook_secret: str = ""
    argocd_hook_token: str = ""
    argocd_hook_secret: str = ""
    k8s_hook_token: str = ""
    k8s_hook_secret: str = ""
    github_hook_secret: str = ""
    gitlab_hook_token: str = ""

    @field_validator("incident_channel_severities")
    @classmethod
    def _lower_case(cls, severities: list[str]) -> list[str]:
        return [severity.lower() for severity in severities]

    @property
    def hooks_enabled(self) -> bool:
        return any(
            (
                self.alertmanager_hook_token,
                self.alertmanager_hook_secret,
                self.argocd_hook_token,
                self.argocd_hook_secret,
                self.k8s_hook_token,
                self.k8s_hook_secret,
                self.github_hook_secret,
                self.gitlab_hook_token,
            )
        )
