"""Who a pipeline is, as configuration and the token store name it: names, roles, and the actor id
under which it plans, is audited and shows on cards."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field

from bot.domain import Actor, PipelineIdentity

# Short enough that `token:` or `oidc:` plus the name fits a user id column (32 characters).
API_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,25}$"
ApiName = Annotated[str, Field(pattern=API_NAME_PATTERN)]
# A pipeline plans and cancels; approving, deciding and breaking glass stay with people in Slack
# (the policy denies them to pipelines too).
ApiRole = Literal["viewer", "operator"]
API_ROLES: tuple[ApiRole, ...] = ("viewer", "operator")

TOKEN_PREFIX = "token:"
OIDC_PREFIX = "oidc:"


def token_actor(team_id: str, name: str, roles: list[str]) -> Actor:
    return Actor(
        team_id=team_id,
        user_id=f"{TOKEN_PREFIX}{name}",
        pipeline=PipelineIdentity(roles=tuple(roles), claims={"token": name}),
    )


def oidc_actor(team_id: str, identity: str, roles: list[str], claims: dict[str, str]) -> Actor:
    return Actor(
        team_id=team_id,
        user_id=f"{OIDC_PREFIX}{identity}",
        pipeline=PipelineIdentity(roles=tuple(roles), claims=claims),
    )


def is_api_name(name: str) -> bool:
    return re.fullmatch(API_NAME_PATTERN, name) is not None
