"""A GitOps world for workflow tests: a real repository holding checkout's values file per
environment, the GitHub and GitLab fakes backed by that repository, an Argo CD fake whose
`checkout-<environment>` applications render those files, and a Grafana fake. `environ()` gives the
settings that point Carapulse's tools at them."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tests.fakes.argocd import FakeArgoCD
from tests.fakes.argocd_state import GitSource, deployment
from tests.fakes.git_remote import BareRemote
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.grafana import FakeGrafana

SERVICE = "checkout"
NAMESPACE = "shop"
IMAGE = "registry.example/checkout"
GITHUB_REPOSITORY = "acme/gitops"
GITLAB_PROJECT = "platform/gitops"
Provider = Literal["github", "gitlab"]


def values_file(environment: str) -> str:
    return f"apps/{SERVICE}/{environment}/values.yaml"


def values(tag: str, *, replicas: int = 2) -> str:
    return f"image:\n  repository: {IMAGE}\n  tag: {tag}  # bumped by Carapulse\nreplicaCount: {replicas}\n"


def render(document: Any) -> list[dict[str, Any]]:
    """What the chart would make of a values file: checkout's Deployment running that image."""
    image = document["image"]
    return [
        deployment(
            SERVICE,
            NAMESPACE,
            image=f"{image['repository']}:{image['tag']}",
            replicas=document["replicaCount"],
        )
    ]


@dataclass
class GitOpsWorld:
    root: Path
    remote: BareRemote
    github: FakeGitHub
    gitlab: FakeGitLab
    argocd: FakeArgoCD
    grafana: FakeGrafana

    def environ(self, provider: Provider = "github", *, grafana: bool = True) -> dict[str, str]:
        settings = {
            "PATH": os.environ["PATH"],
            "GIT_WORKDIR": str(self.root / "git-work"),
            "GIT_ALLOWED_REMOTES": f"file://{self.root}/remotes",
            "ARGOCD_SERVER": self.argocd.url,
            "ARGOCD_AUTH_TOKEN": self.argocd.token,
        }
        if provider == "github":
            settings |= {"GITHUB_TOKEN": self.github.token, "GITHUB_API_URL": self.github.url}
        else:
            settings |= {"GITLAB_TOKEN": self.gitlab.token, "GITLAB_URL": self.gitlab.url}
        if grafana:
            settings |= {"GRAFANA_URL": self.grafana.url, "GRAFANA_TOKEN": self.grafana.token}
        return settings

    def defaults(self, provider: Provider = "github") -> dict[str, str]:
        """Where things live, as an environment's override file gives them."""
        repository = GITHUB_REPOSITORY if provider == "github" else GITLAB_PROJECT
        return {"remote": self.remote.url, "repository": repository}

    async def image(self, environment: str) -> str:
        """The image the application of `environment` runs once Argo CD has finished what it was
        asked to do (a rollback is only requested; nothing waits for it)."""
        app = self.argocd.apps[f"{SERVICE}-{environment}"]
        for _ in range(250):
            self.argocd.reconcile(app)
            if app.operation is None:
                break
            await asyncio.sleep(0.02)
        [running] = [obj for key, obj in app.live.items() if key[1] == "Deployment"]
        return str(running["spec"]["template"]["spec"]["containers"][0]["image"])


@asynccontextmanager
async def gitops_world(root: Path, tags: Mapping[str, str]) -> AsyncIterator[GitOpsWorld]:
    """`tags`: the image tag each environment's values file (and its application) starts at."""
    files = {values_file(environment): values(tag) for environment, tag in tags.items()}
    remote = BareRemote(root, files, name="gitops")
    async with (
        FakeGitHub() as github,
        FakeGitLab() as gitlab,
        FakeArgoCD(operation_seconds=0.05) as argocd,
        FakeGrafana() as grafana,
    ):
        github.add_repository(GITHUB_REPOSITORY, git=remote)
        gitlab.add_project(GITLAB_PROJECT, git=remote)
        for environment in tags:
            source = GitSource(remote, values_file(environment), render)
            argocd.add_git_app(f"{SERVICE}-{environment}", destination=NAMESPACE, source=source)
        yield GitOpsWorld(root, remote, github, gitlab, argocd, grafana)
