"""The `aws` tool: the action list and the `carapulse.tools` entry point.

The actions live in one module per kind of job (capacity, waits, inventory, observability, secrets)
on the base in `action`, and share one AwsClients (tools.common.aws.client), which owns sessions,
retries and error messages; its settings are tools.common.aws.settings, which helm's S3 values read
too. The client is the one module that imports boto3, and only a configured tool imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tools.aws.capacity import RestartEcsService, ScaleAutoScalingGroup, ScaleEcsService
from tools.aws.inventory import ListInstances, ListTaggedResources
from tools.aws.observability import QueryCloudTrail, QueryCloudWatch
from tools.aws.secrets import GetSecret, RotateSecret, WaitForRotation
from tools.aws.waits import WAIT_POLL_SECONDS, WaitForAutoScalingGroup, WaitForEcsService
from tools.common.aws.environments import DEFAULT_ENVIRONMENT
from tools.common.aws.settings import AwsSettings
from tools.common.base import Action
from tools.common.toolset import Toolset, read_settings

if TYPE_CHECKING:
    from tools.common.aws.client import AwsClients


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
