"""RoleDirectory: configured user roles merged with Slack user group members, as the policy sees them.
(The Slack side, usergroups.users.list, is driven through the fake Slack in
tests/integration/actions/test_break_glass_flow.py.)"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.roles import MembersUnavailable, RoleDirectory


class Groups:
    """Answers for group members from a dict, or no_such_subteam for an unknown group."""

    def __init__(self, members: dict[str, list[str]]) -> None:
        self.members = members
        self.calls: list[str] = []

    async def __call__(self, group_id: str) -> Sequence[str]:
        self.calls.append(group_id)
        if group_id not in self.members:
            raise MembersUnavailable("no_such_subteam")
        return self.members[group_id]


async def test_group_members_get_the_groups_roles_merged_with_their_own() -> None:
    groups = Groups({"S0ONCALL": ["U1", "U2"], "S0ADMINS": ["U2"]})
    directory = RoleDirectory(
        user_roles={"U1": ["approver"]},
        group_roles={"S0ONCALL": ["operator"], "S0ADMINS": ["admin", "operator"]},
        members_of=groups,
    )
    assert directory.get("U2") is None  # nothing is known before the first refresh

    await directory.refresh()

    assert directory["U1"] == ["approver", "operator"]
    assert directory["U2"] == ["operator", "admin"]
    assert directory.get("U3", ["viewer"]) == ["viewer"]


async def test_a_group_that_cannot_be_listed_keeps_its_last_members() -> None:
    groups = Groups({"S0ONCALL": ["U1"]})
    directory = RoleDirectory(user_roles={}, group_roles={"S0ONCALL": ["operator"]}, members_of=groups)
    await directory.refresh()

    del groups.members["S0ONCALL"]
    await directory.refresh()

    assert directory["U1"] == ["operator"]
    assert groups.calls == ["S0ONCALL", "S0ONCALL"]


async def test_an_unknown_group_gives_nobody_its_roles(caplog: pytest.LogCaptureFixture) -> None:
    directory = RoleDirectory(user_roles={}, group_roles={"S0GONE": ["admin"]}, members_of=Groups({}))

    await directory.refresh()

    assert dict(directory) == {}
    assert "cannot list members of user group S0GONE: no_such_subteam" in caplog.text
