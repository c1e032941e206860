"""The variables the aws tool reads (the AWS CLI's and SDKs' own, plus AWS_ROLE_ARN,
AWS_ROLE_SESSION_NAME and AWS_ENVIRONMENTS), turned into the environments and connection AwsClients is
built from. helm reads its S3 values with the same settings."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Json, StringConstraints

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
from tools.common.base import ToolError
from tools.common.toolset import ToolSettings

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
