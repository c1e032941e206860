"""Who holds which role: Slack user ids from ROLES, plus the members of Slack user groups from
USERGROUP_ROLES, fetched through `members_of` (Slack's usergroups.users.list, wired in bot/app.py) and
refreshed in the background.

It is a read-only mapping (user id → roles), so the policy asks it exactly as it would ask a dict,
never waiting on Slack: a lookup only reads the last membership fetched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence

log = logging.getLogger(__name__)


class MembersUnavailable(Exception):
    """A group's members could not be read; the message says why (Slack's error code)."""


MembersOf = Callable[[str], Awaitable[Sequence[str]]]


class RoleDirectory(Mapping[str, Sequence[str]]):
    """A user's roles are the union of their own and their groups'. Until a group's members have
    been fetched, or if Slack refuses, its members get nothing from it: unknown means viewer."""

    def __init__(
        self,
        *,
        user_roles: Mapping[str, Sequence[str]],
        group_roles: Mapping[str, Sequence[str]],
        members_of: MembersOf | None = None,
    ) -> None:
        self._user_roles = {user: list(roles) for user, roles in user_roles.items()}
        self._group_roles = dict(group_roles)
        self._members_of = members_of
        self._members: dict[str, frozenset[str]] = {}
        self._merged = self._merge()

    def __getitem__(self, user_id: str) -> Sequence[str]:
        return self._merged[user_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._merged)

    def __len__(self) -> int:
        return len(self._merged)

    async def refresh(self) -> None:
        """Fetch every configured group's members. A group Slack will not list keeps its last known
        members, so one failed refresh does not strip everyone's roles."""
        if self._members_of is None:
            return
        for group_id in self._group_roles:
            try:
                self._members[group_id] = frozenset(await self._members_of(group_id))
            except MembersUnavailable as exc:
                log.error("cannot list members of user group %s: %s", group_id, exc)
        self._merged = self._merge()

    async def refresh_forever(self, interval: float) -> None:
        """Keep memberships fresh after the first `refresh` (done at start-up)."""
        while True:
            await asyncio.sleep(interval)
            await self.refresh()

    def _merge(self) -> dict[str, list[str]]:
        merged = {user: list(roles) for user, roles in self._user_roles.items()}
        for group_id, members in self._members.items():
            for user in members:
                roles = merged.setdefault(user, [])
                roles.extend(role for role in self._group_roles[group_id] if role not in roles)
        return merged
