"""The git tool's settings, and the environment every git command runs with.

git reads configuration from the user's and the system's config files, and a hostile repository
could ship its own; so commands run with HOME in an empty directory of ours, no system or global
config, no prompts and no hooks. Credentials reach git only through this environment: an SSH command
(GIT_SSH_COMMAND, SSH_AUTH_SOCK) or an HTTPS token sent as a header to the allowed HTTPS remotes only,
never written into a remote URL where it would land in `.git/config` and in output.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, SecretStr

from tools.common.toolset import ToolSettings


def _split_prefixes(raw: object) -> object:
    if not isinstance(raw, str):
        return raw
    prefixes = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not prefixes:
        raise ValueError("list at least one remote URL prefix, comma-separated")
    for prefix in prefixes:
        if "://" in prefix and urlsplit(prefix).password:
            raise ValueError(
                f"{urlsplit(prefix).hostname} holds a password; pass it as GIT_HTTP_TOKEN instead"
            )
    return prefixes


RemotePrefixes = Annotated[tuple[str, ...], BeforeValidator(_split_prefixes)]


class GitSettings(ToolSettings):
    workdir: Path = Field(alias="GIT_WORKDIR")
    allowed_remotes: RemotePrefixes = Field(alias="GIT_ALLOWED_REMOTES")
    ssh_command: str | None = Field(default=None, alias="GIT_SSH_COMMAND")
    ssh_auth_sock: str | None = Field(default=None, alias="SSH_AUTH_SOCK")
    http_username: str = Field(default="x-access-token", min_length=1, alias="GIT_HTTP_USERNAME")
    http_token: SecretStr | None = Field(default=None, alias="GIT_HTTP_TOKEN")
    committer_name: str = Field(default="Carapulse", min_length=1, alias="GIT_COMMITTER_NAME")
    committer_email: str = Field(default="carapulse@localhost", min_length=3, alias="GIT_COMMITTER_EMAIL")
    command_timeout: float = Field(default=120.0, gt=0, le=3600, alias="GIT_COMMAND_TIMEOUT")

    @property
    def home(self) -> Path:
        return self.workdir / ".home"


def git_environment(settings: GitSettings) -> dict[str, str]:
    """Creates the empty HOME under GIT_WORKDIR, which must therefore be writable."""
    settings.home.mkdir(parents=True, exist_ok=True)
    environment = {
        "HOME": str(settings.home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_COMMITTER_NAME": settings.committer_name,
        "GIT_COMMITTER_EMAIL": settings.committer_email,
    }
    if settings.ssh_command:
        environment["GIT_SSH_COMMAND"] = settings.ssh_command
    if settings.ssh_auth_sock:
        environment["SSH_AUTH_SOCK"] = settings.ssh_auth_sock
    config = [("core.hooksPath", os.devnull), ("advice.detachedHead", "false")]
    if settings.http_token is not None:
        credentials = f"{settings.http_username}:{settings.http_token.get_secret_value()}"
        header = "Authorization: Basic " + base64.b64encode(credentials.encode()).decode()
        config += [
            (f"http.{prefix}.extraHeader", header)
            for prefix in settings.allowed_remotes
            if prefix.startswith("https://")
        ]
    environment["GIT_CONFIG_COUNT"] = str(len(config))
    for index, (key, setting) in enumerate(config):
        environment[f"GIT_CONFIG_KEY_{index}"] = key
        environment[f"GIT_CONFIG_VALUE_{index}"] = setting
    return environment
