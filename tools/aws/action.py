"""What every AWS action shares: the `environment` argument, the AwsClients it calls through, and
the shaping of boto3's answers into result data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tools.common.aws.environments import EnvironmentName
from tools.common.base import Action, ActionArgs, ArgsT

if TYPE_CHECKING:
    from tools.common.aws.client import AwsClients


class AwsArgs(ActionArgs):
    """Every AWS action may name the environment it acts in; None means the base settings."""

    environment: EnvironmentName | None = None


class AwsAction(Action[ArgsT]):
    """Base of every AWS action: they all share one AwsClients."""

    def __init__(self, aws: AwsClients) -> None:
        self.aws = aws


def jsonable(value: Any) -> Any:
    """boto3 answers with datetimes (and Decimals for some services); action data must be JSON."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def environment_args(args: AwsArgs) -> dict[str, str]:
    """The environment key for result data and rollback args, present only when the step named one."""
    return {"environment": args.environment} if args.environment else {}


def tag_map(tags: Iterable[Mapping[str, str]] | None) -> dict[str, str]:
    """AWS spells tags as [{"Key": k, "Value": v}]; a plain mapping reads better on a card."""
    return {tag["Key"]: tag.get("Value", "") for tag in tags or []}
