"""What exists on AWS: EC2 instances matching filters, and the ARNs of resources carrying given tags.

The tag lookup is how a plan finds its targets ("everything tagged service=checkout in prod"), so its
data lists ARNs that the planner can count for the blast radius.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from tools.aws.action import AwsAction, AwsArgs, environment_args, jsonable, tag_map
from tools.common.base import ActionResult, Effect

FilterName = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9:._/-]+$")]
FilterValue = Annotated[str, StringConstraints(min_length=1, max_length=255)]
InstanceId = Annotated[str, StringConstraints(pattern=r"^i-[0-9a-f]{8,17}$")]
TagKey = Annotated[str, StringConstraints(min_length=1, max_length=128)]
TagValue = Annotated[str, StringConstraints(max_length=256)]
ResourceType = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+(:[A-Za-z0-9-]+)?$")]
Limit = Annotated[int, Field(ge=1, le=1000)]


class ListInstancesArgs(AwsArgs):
    # EC2's own filter names: {"tag:service": ["checkout"], "instance-state-name": ["running"]}.
    filters: dict[FilterName, list[FilterValue]] = Field(default_factory=dict, max_length=50)
    instance_ids: list[InstanceId] = Field(default_factory=list, max_length=200)
    limit: Limit = 100


class ListTaggedResourcesArgs(AwsArgs):
    # Tag key → accepted values; an empty list matches any value of that key.
    tags: dict[TagKey, list[TagValue]] = Field(min_length=1, max_length=50)
    resource_types: list[ResourceType] = Field(default_factory=list, max_length=100)
    limit: Limit = 100


class ListInstances(AwsAction[ListInstancesArgs]):
    name = "aws.ec2_list"
    description = "List EC2 instances matching EC2 filters (tags, state, type, …) or ids."
    args_model = ListInstancesArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 60.0

    async def run(self, args: ListInstancesArgs) -> ActionResult:
        params: dict[str, Any] = {}
        if args.filters:
            params["Filters"] = [{"Name": name, "Values": values} for name, values in args.filters.items()]
        if args.instance_ids:
            params["InstanceIds"] = args.instance_ids
        answer = await self.aws.paginate(
            args.environment, "ec2", "DescribeInstances", limit=args.limit, **params
        )
        found = [
            _instance(instance)
            for reservation in answer.get("Reservations", [])
            for instance in reservation.get("Instances", [])
        ]
        instances = found[: args.limit]
        # The page limit counts reservations, which may hold several instances each.
        truncated = "NextToken" in answer or len(found) > args.limit
        by_state = sorted(Counter(instance["state"] for instance in instances).items())
        states = ", ".join(f"{n} {state}" for state, n in by_state) or "none"
        more = " (more not shown)" if truncated else ""
        where = self.aws.where(args.environment)
        return ActionResult(
            summary=f"{len(instances)} EC2 instances in {where}: {states}{more}",
            data={
                **environment_args(args),
                "instances": instances,
                "count": len(instances),
                "truncated": truncated,
            },
        )


class ListTaggedResources(AwsAction[ListTaggedResourcesArgs]):
    name = "aws.tags_list"
    description = "Find the ARNs of resources carrying the given tags (the targets of a change)."
    args_model = ListTaggedResourcesArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 60.0

    async def run(self, args: ListTaggedResourcesArgs) -> ActionResult:
        params: dict[str, Any] = {
            "TagFilters": [
                {"Key": key, "Values": values} if values else {"Key": key}
                for key, values in args.tags.items()
            ]
        }
        if args.resource_types:
            params["ResourceTypeFilters"] = args.resource_types
        answer = await self.aws.paginate(
            args.environment, "resourcegroupstaggingapi", "GetResources", limit=args.limit, **params
        )
        resources = [
            {"arn": item["ResourceARN"], "tags": tag_map(item.get("Tags"))}
            for item in answer.get("ResourceTagMappingList", [])
        ][: args.limit]
        arns = [resource["arn"] for resource in resources]
        truncated = "NextToken" in answer
        selector = ", ".join(f"{key}={'|'.join(values) or '*'}" for key, values in args.tags.items())
        more = " (more not shown)" if truncated else ""
        return ActionResult(
            summary=f"{len(arns)} resources tagged {selector} in {self.aws.where(args.environment)}{more}",
            data={
                **environment_args(args),
                "arns": arns,
                "resources": resources,
                "count": len(arns),
                "truncated": truncated,
            },
        )


def _instance(instance: dict[str, Any]) -> dict[str, Any]:
    return jsonable(
        {
            "id": instance["InstanceId"],
            "type": instance.get("InstanceType"),
            "state": instance.get("State", {}).get("Name", "unknown"),
            "availability_zone": instance.get("Placement", {}).get("AvailabilityZone"),
            "private_ip": instance.get("PrivateIpAddress"),
            "public_ip": instance.get("PublicIpAddress"),
            "image_id": instance.get("ImageId"),
            "launch_time": instance.get("LaunchTime"),
            "tags": tag_map(instance.get("Tags")),
        }
    )
