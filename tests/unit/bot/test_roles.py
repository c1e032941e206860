"""RoleDirectory: configured user roles merged with Slack user group members, as the policy sees them."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.roles import RoleDirectory


class Groups:
    """Answers usergroups.users.list from a dict, or with Slack's error for an unknown group."""

    def __init__(self, members: dict[str, list[str]]) -> None:
        self.members = members
        self.calls: list[str] = []

    async def usergroups_users_list(self, *, usergroup: str) -> AsyncSlackResponse:
        self.calls.append(usergroup)
        ok = usergroup in self.members
        data: dict[str, Any] = (
            {"ok": True, "users": self.members[usergroup]}
            if ok
            else {"ok": False, "error": "no_such_subteam"}
        )
        response = AsyncSlackResponse(
            client=None,
            http_verb="POST",
            api_url="usergroups.users.list",
            req_args={},
            data=data,
            headers={},
            status_code=200,
        )
        if not ok:
            raise SlackApiError("no_such_subteam", response)
        return response


async def test_group_members_get_the_groups_roles_merged_with_their_own() -> None:
    groups = Groups({"S0ONCALL": ["U1", "U2"], "S0ADMINS": ["U2"]})
    directory = RoleDirectory(
        user_roles={"U1": ["approver"]},
        group_roles={"S0ONCALL": ["operator"], "S0ADMINS": ["admin", "operator"]},
        client=groups,  # type: ignore[arg-type]
    )
    assert directory.get("U2") is None  # nothing is known before the first refresh

    await directory.refresh()

    assert directory["U1"] == ["approver", "operator"]
    assert directory["U2"] == ["operator", "admin"]
    assert directory.get("U3", ["viewer"]) == ["viewer"]


async def test_a_group_slack_will_not_list_keeps_its_last_members() -> None:
    groups = Groups({"S0ONCALL": ["U1"]})
    directory = RoleDirectory(user_roles={}, group_roles={"S0ONCALL": ["operator"]}, client=groups)  # type: ignore[arg-type]
    await directory.refresh()

    del groups.members["S0ONCALL"]
    await directory.refresh()

    assert directory["U1"] == ["operator"]
    assert groups.calls == ["S0ONCALL", "S0ONCALL"]


async def test_an_unknown_group_gives_nobody_its_roles(caplog: pytest.LogCaptureFixture) -> None:
    directory = RoleDirectory(user_roles={}, group_roles={"S0GONE": ["admin"]}, client=Groups({}))  # type: ignore[arg-type]

    await directory.refresh()

    assert dict(directory) == {}
    assert "cannot list members of user group S0GONE: no_such_subteam" in caplog.text
