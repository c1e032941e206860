"""The terraform tool's `carapulse.tools` entry point: enabled by TERRAFORM_ROOT, the directory that
holds the stacks (one subdirectory each) a step may name."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field

from tools.common.base import Action, ToolError
from tools.common.cli_tool import NameList, passed_environment, resolve_runner
from tools.common.toolset import Toolset, ToolSettings, read_settings
from tools.terraform.actions import ApplyPlan, DestroyStack, ListState, PlanStack
from tools.terraform.client import TerraformClient

# Terraform's own settings an operator may have moved: CLI configuration (credentials, mirrors) and
# the provider cache.
_TERRAFORM_VARIABLES = ("TF_CLI_CONFIG_FILE", "TF_PLUGIN_CACHE_DIR")
PLAN_DIRECTORY = ".carapulse-plans"


class TerraformSettings(ToolSettings):
    root: Path = Field(alias="TERRAFORM_ROOT")
    binary: str = Field(default="terraform", min_length=1, alias="TERRAFORM_BIN")
    # Where saved plans wait for approval; default <TERRAFORM_ROOT>/.carapulse-plans.
    plan_dir: Path | None = Field(default=None, alias="TERRAFORM_PLAN_DIR")
    # Variables the providers and backends need, e.g. "AWS_PROFILE,AWS_REGION,TF_TOKEN_app_terraform_io".
    pass_env: NameList = Field(default=(), alias="TERRAFORM_PASS_ENV")


def actions(client: TerraformClient) -> list[Action[Any]]:
    return [PlanStack(client), ApplyPlan(client), ListState(client), DestroyStack(client)]


def toolset(environ: Mapping[str, str]) -> Toolset:
    """The `carapulse.tools` entry point; a missing root directory or binary stops start-up."""
    settings = read_settings("terraform", TerraformSettings, environ, required="TERRAFORM_ROOT")
    if not settings.root.is_dir():
        raise ToolError(f"TERRAFORM_ROOT: directory {settings.root} does not exist", call="configuration")
    try:
        runner = resolve_runner({"terraform": settings.binary}, environ)
    except ToolError as error:
        raise ToolError(f"{error.message}; set TERRAFORM_BIN to its path", call=error.call) from None
    client = TerraformClient(
        runner,
        root=settings.root,
        plan_dir=settings.plan_dir or settings.root / PLAN_DIRECTORY,
        env=passed_environment(environ, (*_TERRAFORM_VARIABLES, *settings.pass_env)),
    )
    return Toolset(
        name="terraform",
        actions=actions(client),
        status=f"enabled, {client.binary}, stacks under {client.root}",
    )
