"""The git tool: the `carapulse.tools` entry point. The actions are in `actions`; the clones and the
commands run in them in `repo`, the settings and the environment git runs with in `settings`, and
edits of one YAML value in `yaml_document`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.common.base import Action, ToolError
from tools.common.redaction import Redactor
from tools.common.runner import CliRunner
from tools.common.toolset import Toolset, read_settings
from tools.git.actions import CreateBranch, DeleteBranch, GetValue, PromoteValue, RevertCommit, SetValue
from tools.git.repo import GitWorkspace
from tools.git.settings import GitSettings, git_environment


def actions(workspace: GitWorkspace) -> list[Action[Any]]:
    return [
        GetValue(workspace),
        SetValue(workspace),
        PromoteValue(workspace),
        CreateBranch(workspace),
        DeleteBranch(workspace),
        RevertCommit(workspace),
    ]


def toolset(environ: Mapping[str, str]) -> Toolset:
    """The `carapulse.tools` entry point: enabled by GIT_WORKDIR, limited to GIT_ALLOWED_REMOTES."""
    settings = read_settings("git", GitSettings, environ, required="GIT_WORKDIR")
    token = settings.http_token.get_secret_value() if settings.http_token else None
    runner = CliRunner.resolve(["git"], environ=environ, redactor=Redactor.with_secrets([token]))
    try:
        environment = git_environment(settings)
    except OSError as exc:
        raise ToolError(
            f"git: GIT_WORKDIR: cannot use {settings.workdir}: {exc.strerror}", call="configuration"
        ) from None
    workspace = GitWorkspace(
        root=settings.workdir,
        runner=runner,
        allowed_remotes=settings.allowed_remotes,
        environment=environment,
        command_timeout=settings.command_timeout,
    )
    count = len(settings.allowed_remotes)
    status = (
        f"enabled, clones in {settings.workdir}, {count} allowed remote prefix{'es' if count > 1 else ''}"
    )
    return Toolset(name="git", actions=actions(workspace), status=status)
