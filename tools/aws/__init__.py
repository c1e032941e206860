"""The `aws` tool: settings, the action list, and the `carapulse.tools` entry point.

The actions live in one module per kind of job (aws_capacity, aws_waits, aws_inventory,
aws_observability, aws_secrets) on the base in aws_action, and share one AwsClients (aws_client),
which owns sessions, retries and error messages. aws_client is the one module that imports boto3,
and only a configured tool imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Json, StringConstraints

from tools.aws.capacity import RestartEcsService, ScaleAutoScalingGroup, ScaleEcsService
from tools.aws.inventory import ListInstances, ListTaggedResources
from tools.aws.observability import QueryCloudTrail, QueryCloudWatch
from tools.aws.secrets import GetSecret, RotateSecret, WaitForRotation
from tools.aws.waits import WAIT_POLL_SECONDS, WaitForAutoScalingGroup, WaitForEcsService
from tools.common.aws.environments import (
    DEFAULT_ENVIRONMENT,
    AwsConnection,
    AwsEnvironment,
    EnvironmentName,
    ProfileName,
    Region,
    RoleArn,
    StaticKeys,
)
from tools.common.base import Action, ToolError
from tools.common.toolset import Toolset, ToolSettings, read_settings

if TYPE_CHECKING:
    from tools.common.aws.client import AwsClients

# The length is a constraint of its own: in the pattern, `{2,64}` of a Unicode `\w` takes pydantic's
# regex engine ~40 ms to compile.
RoleSessionName = Annotated[str, StringConstraints(min_length=2, max_length=64, pattern=r"^[\w+=,.@-]+$")]


class EnvironmentSpec(BaseModel):
    """One entry of AWS_ENVIRONMENTS; a missing region is AWS_REGION's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: Region | None = None
    profile: ProfileName | None = None
    role_arn: RoleArn | None = None


class AwsSettings(ToolSettings):
    """The variables the AWS CLI and SDKs already use, plus AWS_ROLE_ARN / AWS_ROLE_SESSION_NAME for a
    role to assume and AWS_ENVIRONMENTS for per-environment region, profile and role."""

    region: Region = Field(alias="AWS_REGION")
    profile: ProfileName | None = Field(default=None, alias="AWS_PROFILE")
    role_arn: RoleArn | None = Field(default=None, alias="AWS_ROLE_ARN")
    role_session_name: RoleSessionName = Field(default="carapulse", alias="AWS_ROLE_SESSION_NAME")
    endpoint_url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+(/\S*)?$")] | None = Field(
        default=None, alias="AWS_ENDPOINT_URL"
    )
    access_key_id: str | None = Field(default=None, alias="AWS_ACCESS_KEY_ID")
    secret_access_key: str | None = Field(default=None, alias="AWS_SECRET_ACCESS_KEY")
    session_token: str | None = Field(default=None, alias="AWS_SESSION_TOKEN")
    max_attempts: int = Field(default=5, ge=1, le=10, alias="AWS_MAX_ATTEMPTS")
    environments: Json[dict[EnvironmentName, EnvironmentSpec]] | None = Field(
        default=None, alias="AWS_ENVIRONMENTS"
    )

    def check(self) -> None:
        """What field validation cannot say with the variable's name in front."""
        if (self.access_key_id is None) != (self.secret_access_key is None):
            missing = "AWS_SECRET_ACCESS_KEY" if self.secret_access_key is None else "AWS_ACCESS_KEY_ID"
            raise ToolError(f"aws: {missing}: required with its pair", call="configuration")
        if self.environments and DEFAULT_ENVIRONMENT in self.environments:
            message = f"aws: AWS_ENVIRONMENTS: {DEFAULT_ENVIRONMENT!r} names the base settings; rename it"
            raise ToolError(message, call="configuration")

    def resolved_environments(self) -> dict[str, AwsEnvironment]:
        base = AwsEnvironment(region=self.region, profile=self.profile, role_arn=self.role_arn)
        named = {
            name: AwsEnvironment(
                region=spec.region or self.region, profile=spec.profile, role_arn=spec.role_arn
            )
            for name, spec in (self.environments or {}).items()
        }
        return {DEFAULT_ENVIRONMENT: base, **named}

    def connection(self) -> AwsConnection:
        keys = None
        if self.access_key_id and self.secret_access_key:
            keys = StaticKeys(self.access_key_id, self.secret_access_key, self.session_token)
        return AwsConnection(
            endpoint_url=self.endpoint_url,
            static_keys=keys,
            role_session_name=self.role_session_name,
            max_attempts=self.max_attempts,
        )


def actions(aws: AwsClients, *, poll_seconds: float = WAIT_POLL_SECONDS) -> list[Action[Any]]:
    return [
        ScaleAutoScalingGroup(aws),
        WaitForAutoScalingGroup(aws, poll_seconds=poll_seconds),
        ScaleEcsService(aws),
        WaitForEcsService(aws, poll_seconds=poll_seconds),
        RestartEcsService(aws),
        ListInstances(aws),
        ListTaggedResources(aws),
        QueryCloudTrail(aws),
        QueryCloudWatch(aws),
        GetSecret(aws),
        RotateSecret(aws),
        WaitForRotation(aws, poll_seconds=poll_seconds),
    ]


def toolset(environ: Mapping[str, str]) -> Toolset:
    """The `carapulse.tools` entry point. Nothing is called at start-up (credentials may come from an
    instance role only reachable later), but a named profile that does not exist stops start-up."""
    settings = read_settings("aws", AwsSettings, environ, required="AWS_REGION")
    settings.check()
    environments = settings.resolved_environments()
    # boto3 takes a quarter of a second to import: only a configured tool loads it.
    from tools.common.aws.client import AwsClients, check_profiles

    check_profiles(environments)
    aws = AwsClients(environments, settings.connection())
    where = f"region {settings.region}"
    if settings.endpoint_url:
        where += f" via {settings.endpoint_url}"
    if len(environments) > 1:
        where += f", environments {', '.join(name for name in environments if name != DEFAULT_ENVIRONMENT)}"
    return Toolset(name="aws", actions=actions(aws), status=f"enabled, {where}", closers=[aws.close])
