"""The GitLab tool: its settings and the `carapulse.tools` entry point. The actions are in `actions`,
their arguments in `args`, the REST client in `client`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import AnyHttpUrl, Field, SecretStr

from tools.common.base import Action
from tools.common.toolset import Toolset, ToolSettings, read_settings
from tools.gitlab.actions import (
    AddNote,
    CloseMergeRequest,
    DeleteNote,
    GetMergeRequestStatus,
    MergeMergeRequest,
    OpenMergeRequest,
    ReopenMergeRequest,
)
from tools.gitlab.client import GitLabClient


def actions(client: GitLabClient) -> list[Action[Any]]:
    return [
        GetMergeRequestStatus(client),
        OpenMergeRequest(client),
        CloseMergeRequest(client),
        ReopenMergeRequest(client),
        MergeMergeRequest(client),
        AddNote(client),
        DeleteNote(client),
    ]


class GitLabSettings(ToolSettings):
    token: SecretStr = Field(alias="GITLAB_TOKEN")
    url: AnyHttpUrl = Field(default=AnyHttpUrl("https://gitlab.com"), alias="GITLAB_URL")


def toolset(environ: Mapping[str, str]) -> Toolset:
    """The `carapulse.tools` entry point: GITLAB_TOKEN (a personal, group or project access token)
    enables it; GITLAB_URL points at a self-managed instance."""
    settings = read_settings("gitlab", GitLabSettings, environ, required="GITLAB_TOKEN")
    url = str(settings.url).rstrip("/")
    client = GitLabClient.create(token=settings.token.get_secret_value(), url=url)
    return Toolset(name="gitlab", actions=actions(client), status=f"enabled, {url}", closers=[client.close])
