"""Deploys and Kubernetes events from webhooks (`/hooks/argocd`, `/hooks/git`, `/hooks/k8s`) as
typed models, each read as one event of the service it concerns, for that service's incident
timelines. Fields the senders may add are ignored; the ones read are checked."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from bot.incident_settings import ServiceConfig

Short = Annotated[str, StringConstraints(max_length=255)]
Text = Annotated[str, StringConstraints(max_length=4096)]
# A pod of a Deployment is <deployment>-<replicaset hash>-<5 characters>; a ReplicaSet drops the last.
_POD_SUFFIX = re.compile(r"-[a-z0-9]{6,10}-[a-z0-9]{5}$")
_REPLICASET_SUFFIX = re.compile(r"-[a-z0-9]{6,10}$")


@dataclass(frozen=True)
class ServiceEventIn:
    service: str
    kind: str
    source: str
    summary: str
    occurred_at: datetime
    actor: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True, populate_by_name=True)


class ArgoCdNotification(_Body):
    """What the Argo CD notifications webhook template in the README sends."""

    app: Annotated[str, StringConstraints(min_length=1, max_length=253)]
    revision: Short = ""
    phase: Short = ""
    health: Short = ""
    sync: Short = ""
    message: Text = ""
    initiated_by: Short = ""
    service: Short = ""


class _Named(_Body):
    name: Short = ""
    login: Short = ""
    username: Short = ""


class _Repository(_Body):
    full_name: Short = ""


class _GitHubDeployment(_Body):
    sha: Short = ""
    ref: Short = ""
    environment: Short = ""
    creator: _Named = Field(default_factory=_Named)


class _GitHubDeploymentStatus(_Body):
    state: Short = ""
    description: Text = ""


class _HeadCommit(_Body):
    id: Short = ""
    message: Text = ""


class GitHubEvent(_Body):
    """A push, deployment or deployment_status event (X-GitHub-Event names which)."""

    repository: _Repository
    ref: Short = ""
    after: Short = ""
    pusher: _Named = Field(default_factory=_Named)
    head_commit: _HeadCommit | None = None
    deployment: _GitHubDeployment | None = None
    deployment_status: _GitHubDeploymentStatus | None = None


class _GitLabProject(_Body):
    path_with_namespace: Short = ""


class GitLabEvent(_Body):
    """A Push Hook or Deployment Hook body (`object_kind` push or deployment)."""

    object_kind: Annotated[str, StringConstraints(pattern=r"^(push|deployment)$")]
    project: _GitLabProject
    ref: Short = ""
    checkout_sha: Short | None = None
    sha: Short = ""
    user_name: Short = ""
    user: _Named = Field(default_factory=_Named)
    status: Short = ""
    environment: Short = ""


class _InvolvedObject(_Body):
    kind: Short
    name: Short
    namespace: Short = ""


class KubernetesEvent(_Body):
    """A core/v1 Event, as an event exporter's webhook sink posts it."""

    involved_object: _InvolvedObject = Field(alias="involvedObject")
    reason: Short = ""
    message: Text = ""
    type: Short = ""
    count: int = 1
    last_timestamp: AwareDatetime | None = Field(default=None, alias="lastTimestamp")
    event_time: AwareDatetime | None = Field(default=None, alias="eventTime")


GITHUB_EVENTS = frozenset({"push", "deployment", "deployment_status"})


def from_argocd(
    body: ArgoCdNotification, services: Mapping[str, ServiceConfig], now: datetime
) -> ServiceEventIn:
    service = body.service or _service_by(services, lambda s: s.argocd_app == body.app) or body.app
    state = ", ".join(part for part in (body.phase, body.sync, body.health) if part)
    summary = f"{body.app} deployed {body.revision[:12] or '?'}" + (f" ({state})" if state else "")
    summary += f": {body.message}" if body.message else ""
    detail = body.model_dump(mode="json")
    return ServiceEventIn(service, "deploy", "argocd", summary, now, body.initiated_by, detail)


def from_github(
    event: str, body: GitHubEvent, services: Mapping[str, ServiceConfig], now: datetime
) -> ServiceEventIn:
    repository = body.repository.full_name
    service = _repository_service(repository, services)
    if event == "push":
        message = (body.head_commit.message.splitlines() or [""])[0] if body.head_commit else ""
        summary = f"push to {repository} {body.ref} at {body.after[:12]}" + (
            f": {message}" if message else ""
        )
        return ServiceEventIn(service, "push", "github", summary, now, body.pusher.name)
    deployment = body.deployment or _GitHubDeployment()
    state = f" {body.deployment_status.state}" if body.deployment_status else ""
    what = deployment.ref or deployment.sha[:12]
    summary = f"deployment of {repository} {what} to {deployment.environment}{state}"
    return ServiceEventIn(service, "deploy", "github", summary, now, deployment.creator.login)


def from_gitlab(body: GitLabEvent, services: Mapping[str, ServiceConfig], now: datetime) -> ServiceEventIn:
    project = body.project.path_with_namespace
    service = _repository_service(project, services)
    if body.object_kind == "push":
        sha = (body.checkout_sha or "")[:12]
        return ServiceEventIn(
            service, "push", "gitlab", f"push to {project} {body.ref} at {sha}", now, body.user_name
        )
    summary = (
        f"deployment of {project} {body.ref or body.sha[:12]} to {body.environment} {body.status}".rstrip()
    )
    return ServiceEventIn(service, "deploy", "gitlab", summary, now, body.user.username)


def from_kubernetes(
    body: KubernetesEvent, services: Mapping[str, ServiceConfig], now: datetime
) -> ServiceEventIn:
    involved = body.involved_object
    owner = involved.name
    if involved.kind == "Pod":
        owner = _POD_SUFFIX.sub("", owner)
    elif involved.kind == "ReplicaSet":
        owner = _REPLICASET_SUFFIX.sub("", owner)
    service = _service_by(services, lambda s: s.deployment == owner) or owner
    repeated = f" (x{body.count})" if body.count > 1 else ""
    summary = f"{body.type} {body.reason} {involved.kind}/{involved.name}: {body.message}{repeated}"
    when = body.last_timestamp or body.event_time or now
    return ServiceEventIn(
        service, "k8s_event", "kubernetes", summary, when, "", {"namespace": involved.namespace}
    )


def _repository_service(repository: str, services: Mapping[str, ServiceConfig]) -> str:
    """The service that names the repository, else the repository's own name."""
    return _service_by(services, lambda s: repository in s.repositories) or repository.rsplit("/", 1)[-1]


def _service_by(services: Mapping[str, ServiceConfig], matches: Any) -> str | None:
    return next((name for name, config in services.items() if matches(config)), None)
