"""The Linear tool: its settings and the `carapulse.tools` entry point. The actions are in `actions`,
the GraphQL client in `client`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, SecretStr, StringConstraints

from tools.common.base import Action
from tools.common.toolset import Toolset, ToolSettings, read_settings
from tools.linear.actions import (
    AnnotateIssue,
    ArchiveIssue,
    AttachLink,
    CreateIssue,
    DeleteAttachment,
    DeleteComment,
    GetIssue,
    UnarchiveIssue,
)
from tools.linear.client import API_URL, LinearApi, linear_client


def actions(api: LinearApi) -> list[Action[Any]]:
    return [
        GetIssue(api),
        CreateIssue(api),
        ArchiveIssue(api),
        UnarchiveIssue(api),
        AnnotateIssue(api),
        DeleteComment(api),
        AttachLink(api),
        DeleteAttachment(api),
    ]


class LinearSettings(ToolSettings):
    api_key: SecretStr = Field(alias="LINEAR_API_KEY")
    api_url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+")] = Field(
        default=API_URL, alias="LINEAR_API_URL"
    )
    timeout: float = Field(default=30.0, gt=0, le=300, alias="LINEAR_TIMEOUT")


def toolset(environ: Mapping[str, str]) -> Toolset:
    """The `carapulse.tools` entry point: one GraphQL client, closed with the toolset."""
    settings = read_settings("linear", LinearSettings, environ, required="LINEAR_API_KEY")
    api = LinearApi(
        linear_client(
            settings.api_key.get_secret_value(), base_url=settings.api_url, timeout=settings.timeout
        )
    )
    return Toolset(
        name="linear",
        actions=actions(api),
        status=f"enabled, {settings.api_url}/graphql",
        closers=[api.close],
    )
