"""gitops_deploy's inputs: what to deploy where, and where the GitOps repository, the value and the
Argo CD application live (an environment's override file sets those as defaults)."""

from __future__ import annotations

import string
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo, field_validator

from bot.workflows.base import WorkflowInputs
from bot.workflows.checks import PromqlCheck
from bot.workflows.sentences import NAME
from tools.common.git.refs import BranchName, RemoteUrl, YamlPath

Provider = Literal["github", "gitlab"]
# A container image tag as registries accept it.
ImageTag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
Name = Annotated[str, StringConstraints(max_length=63, pattern=rf"^{NAME}$")]
Repository = Annotated[
    str, StringConstraints(max_length=255, pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$")
]
PLACEHOLDERS = frozenset({"service", "environment"})


def _template(text: str) -> str:
    """A path or name with {service} and {environment} in it, filled in when the plan is made."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ValueError(f"{exc}; write literal braces as {{{{ and }}}}") from None
    unknown = sorted(names - PLACEHOLDERS)
    if unknown:
        raise ValueError(f"unknown placeholder {{{unknown[0]}}}; use {{service}} and {{environment}}")
    return text


Template = Annotated[str, StringConstraints(min_length=1, max_length=300), AfterValidator(_template)]


class GitOpsInputs(WorkflowInputs):
    service: Name = Field(title="Service", description="e.g. checkout")
    version: ImageTag | None = Field(
        default=None, title="Version", description="The image tag to deploy, e.g. v1.4.2"
    )
    promote_from: Name | None = Field(
        default=None,
        title="Promote from",
        description="Instead of a version: the environment whose version to deploy here",
    )
    remote: RemoteUrl | None = Field(
        default=None, title="Git remote", description="Clone URL of the GitOps repository"
    )
    repository: Repository | None = Field(
        default=None, title="Repository", description="owner/name on GitHub, group/project on GitLab"
    )
    provider: Provider | None = Field(
        default=None, title="Provider", description="github or gitlab; empty: the one configured"
    )
    base_branch: BranchName = Field(default="main", title="Base branch")
    values_file: Template = Field(
        default="apps/{service}/{environment}/values.yaml",
        title="Values file",
        description="Path in the repository; {service} and {environment} are filled in",
    )
    tag_path: YamlPath = Field(default="image.tag", title="Value path", description="e.g. image.tag")
    argocd_app: Template = Field(
        default="{service}-{environment}", title="Argo CD application", description="Name template"
    )
    check: PromqlCheck | None = Field(default=None, title="PromQL check")

    @field_validator("promote_from")
    @classmethod
    def _another_environment(cls, source: str | None, info: ValidationInfo) -> str | None:
        if source is not None and source == info.data.get("environment"):
            raise ValueError("promote from another environment than the one deployed to")
        return source

    def fill(self, template: str, *, environment: str | None = None) -> str:
        return template.format(service=self.service, environment=environment or self.environment)
