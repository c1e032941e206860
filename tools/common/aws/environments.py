"""Where the aws tool's calls go and as whom: the environments (region, profile, role) and the
connection settings AwsClients is built from. Plain data, so the settings can be read, and checked,
without loading boto3; that happens only once the tool is configured."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

DEFAULT_ENVIRONMENT = "default"

EnvironmentName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Region = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")]
RoleArn = Annotated[
    str, StringConstraints(max_length=2048, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]+$")
]
ProfileName = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class AwsEnvironment(BaseModel):
    """Where one environment's calls go and as whom: a region, optionally a named profile for the
    source credentials, optionally a role to assume on top of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: Region
    profile: ProfileName | None = None
    role_arn: RoleArn | None = None


@dataclass(frozen=True)
class StaticKeys:
    """Access keys given in the settings; used only by environments without a profile of their own."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


@dataclass(frozen=True)
class AwsConnection:
    """How every client connects, whatever its environment."""

    endpoint_url: str | None = None
    static_keys: StaticKeys | None = None
    role_session_name: str = "carapulse"
    max_attempts: int = 5
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
