"""The GitHub tool: its settings and the `carapulse.tools` entry point. The actions are in `actions`,
their arguments in `args`, the REST client in `client`, checks and pull request facts in `checks` and
`pulls`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import AnyHttpUrl, Field, SecretStr

from tools.common.base import Action
from tools.common.toolset import Toolset, ToolSettings, read_settings
from tools.github.actions import (
    AddComment,
    ClosePullRequest,
    CreateDeployment,
    CreateDeploymentStatus,
    DeleteComment,
    DispatchWorkflow,
    GetPullRequestStatus,
    MergePullRequest,
    OpenPullRequest,
    ReopenPullRequest,
)
from tools.github.client import GitHubClient


def actions(client: GitHubClient) -> list[Action[Any]]:
    return [
        GetPullRequestStatus(client),
        OpenPullRequest(client),
        ClosePullRequest(client),
        ReopenPullRequest(client),
        MergePullRequest(client),
        CreateDeployment(client),
        CreateDeploymentStatus(client),
        DispatchWorkflow(client),
        AddComment(client),
        DeleteComment(client),
    ]


class GitHubSettings(ToolSettings):
    token: SecretStr = Field(alias="GITHUB_TOKEN")
    api_url: AnyHttpUrl = Field(default=AnyHttpUrl("https://api.github.com"), alias="GITHUB_API_URL")


def toolset(environ: Mapping[str, str]) -> Toolset:
    """The `carapulse.tools` entry point: GITHUB_TOKEN enables it; GITHUB_API_URL points at GitHub
    Enterprise (`https://github.example.com/api/v3`)."""
    settings = read_settings("github", GitHubSettings, environ, required="GITHUB_TOKEN")
    api_url = str(settings.api_url).rstrip("/")
    client = GitHubClient.create(token=settings.token.get_secret_value(), api_url=api_url)
    return Toolset(
        name="github", actions=actions(client), status=f"enabled, API {api_url}", closers=[client.close]
    )
