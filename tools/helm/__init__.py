"""The helm tool's `carapulse.tools` entry point: settings from the environment and one client shared by
every action.

The tool is switched on by HELM_ENABLED=1 or HELM_BIN, not by helm merely being absent or present, so a
machine without helm starts when nobody asked for helm, and stops with one line when somebody did.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field

from tools.common.base import Action, ToolError
from tools.common.cli_tool import NameList, passed_environment, resolve_runner
from tools.common.toolset import NotConfigured, Toolset, ToolSettings, read_settings
from tools.helm.actions import (
    ListReleases,
    ReleaseHistory,
    ReleaseStatus,
    ReleaseValues,
    RollbackRelease,
    UninstallRelease,
    UpgradeDiff,
    UpgradeRelease,
)
from tools.helm.client import HelmClient
from tools.helm.value_files import ValuesWriter
from tools.helm.values import GitValuesSource
from tools.helm.values_s3 import s3_values_source

# Where helm keeps repositories, registry logins and its cache, when the operator moved them.
_HELM_HOME_VARIABLES = (
    "HELM_CACHE_HOME",
    "HELM_CONFIG_HOME",
    "HELM_DATA_HOME",
    "HELM_REPOSITORY_CONFIG",
    "HELM_REPOSITORY_CACHE",
    "HELM_REGISTRY_CONFIG",
    "HELM_DRIVER",
)
# In a pod, helm finds the API server through these and the mounted service-account token.
_IN_CLUSTER_VARIABLES = ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT")
# `helm upgrade -o json` prints the whole chart (templates, files); a large chart runs to megabytes.
OUTPUT_CAP = 32 * 1024 * 1024


class HelmSettings(ToolSettings):
    enabled: bool = Field(default=False, alias="HELM_ENABLED")
    binary: str = Field(default="helm", min_length=1, alias="HELM_BIN")
    kubeconfig: str | None = Field(default=None, alias="KUBECONFIG")
    kube_context: str | None = Field(default=None, alias="HELM_KUBECONTEXT")
    # Repository URL prefixes `values_git` may read from; unset, values from git are refused.
    values_git_repos: NameList = Field(default=(), alias="HELM_VALUES_GIT_REPOS")
    # Buckets `values_s3` may read from (exact names); unset, values from S3 are refused. Region and
    # credentials come from the AWS_* variables the aws tool reads.
    values_s3_buckets: NameList = Field(default=(), alias="HELM_VALUES_S3_BUCKETS")
    # Further variables helm (or a kubeconfig exec plugin) needs, e.g. "AWS_PROFILE,AWS_REGION".
    pass_env: NameList = Field(default=(), alias="HELM_PASS_ENV")
    home: Path | None = Field(default=None, alias="HOME")

    def child_environment(self, environ: Mapping[str, str]) -> dict[str, str]:
        """What every helm call sees: the runner gives a child nothing else of the service's environment
        and points HOME at a scratch directory, so the kubeconfig is passed by path."""
        env = passed_environment(environ, (*_HELM_HOME_VARIABLES, *_IN_CLUSTER_VARIABLES, *self.pass_env))
        kubeconfig = self.kubeconfig or self._home_kubeconfig()
        if kubeconfig:
            env["KUBECONFIG"] = kubeconfig
        if self.kube_context:
            env["HELM_KUBECONTEXT"] = self.kube_context
        return env

    def _home_kubeconfig(self) -> str | None:
        default = self.home / ".kube" / "config" if self.home else None
        return str(default) if default and default.is_file() else None


def actions(client: HelmClient, values: ValuesWriter) -> list[Action[Any]]:
    return [
        ListReleases(client),
        ReleaseStatus(client),
        ReleaseHistory(client),
        ReleaseValues(client),
        UpgradeDiff(client, values),
        UpgradeRelease(client, values),
        RollbackRelease(client),
        UninstallRelease(client),
    ]


def toolset(environ: Mapping[str, str]) -> Toolset:
    """The `carapulse.tools` entry point. A missing helm (or git, when values may come from git) or
    S3 values without AWS_REGION is a ToolError here, at start-up, never at the first step that needs it."""
    if not environ.get("HELM_ENABLED") and not environ.get("HELM_BIN"):
        raise NotConfigured("set HELM_ENABLED=1 (helm on PATH) or HELM_BIN to enable")
    required = "HELM_BIN" if environ.get("HELM_BIN") else "HELM_ENABLED"
    settings = read_settings("helm", HelmSettings, environ, required=required)
    if required == "HELM_ENABLED" and not settings.enabled:
        raise NotConfigured("HELM_ENABLED is off")
    commands = {"helm": settings.binary} | ({"git": "git"} if settings.values_git_repos else {})
    try:
        runner = resolve_runner(commands, environ, output_cap=OUTPUT_CAP)
    except ToolError as error:
        hint = (
            "HELM_VALUES_GIT_REPOS needs git"
            if error.call == "resolve git"
            else "set HELM_BIN to helm's path"
        )
        raise ToolError(f"{error.message}; {hint}", call=error.call) from None
    env = settings.child_environment(environ)
    git = (
        GitValuesSource(runner, settings.values_git_repos, env=passed_environment(environ, settings.pass_env))
        if settings.values_git_repos
        else None
    )
    s3 = s3_values_source(environ, settings.values_s3_buckets) if settings.values_s3_buckets else None
    client = HelmClient(runner, env=env)
    context = settings.kube_context or "the kubeconfig's current context"
    from_git = f", values from git under {', '.join(settings.values_git_repos)}" if git else ""
    from_s3 = f", values from S3 buckets {', '.join(settings.values_s3_buckets)}" if s3 else ""
    return Toolset(
        name="helm",
        actions=actions(client, ValuesWriter(git, s3)),
        status=f"enabled, {client.binary}, {context}{from_git}{from_s3}",
        closers=[s3.aws.close] if s3 else [],
    )
