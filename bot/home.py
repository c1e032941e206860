"""Publishes App Home tabs and keeps them current.

A person's tab is published when they open it, and again whenever something it shows changes in
this process: a plan (card changes reach the notifier's watchers), a schedule, a runbook, a
playbook, a note. Each tab is republished at most once per `min_interval` (bot/coalesce.py) and
only when what it shows changed. Only people who opened their tab within `viewer_ttl` are kept
current; anyone else sees a fresh tab the next time they open it. A replica keeps current the tabs
opened through it; a change made on another replica reaches them at the next open or change here.

What a person looks at (the page of each section) and a notice for them (the outcome of something
they did from the tab) live here, in memory, with the tab.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from blocks.home import home_view
from bot import home_views
from bot.clock import utcnow
from bot.coalescing import Coalescer, digest
from bot.db.engine import SessionFactory
from bot.policy import Policy
from bot.slack_clients import SlackClients
from bot.tasks import TaskSupervisor

DEFAULT_VIEWER_TTL_SECONDS = 3600.0


@dataclass
class _Viewer:
    seen: float
    pages: dict[str, int] = field(default_factory=dict)
    notice: str = ""


class HomePublisher:
    def __init__(
        self,
        *,
        clients: SlackClients,
        sessions: SessionFactory,
        supervisor: TaskSupervisor,
        policy: Policy,
        min_interval: float,
        viewer_ttl: float = DEFAULT_VIEWER_TTL_SECONDS,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._clients = clients
        self._sessions = sessions
        self._policy = policy
        self._viewer_ttl = viewer_ttl
        self._clock = clock
        self._viewers: dict[tuple[str, str], _Viewer] = {}
        self._shown: dict[tuple[str, str], str] = {}
        self._tabs: Coalescer[tuple[str, str], None] = Coalescer(
            deliver=self._publish,
            new_state=lambda: None,
            describe=lambda key: f"the App Home of {key[1]}",
            supervisor=supervisor,
            min_interval=min_interval,
        )

    def opened(self, team_id: str, user_id: str) -> None:
        """They opened their tab: show it fresh (an old notice is dropped) and keep it current."""
        self._viewer(team_id, user_id).notice = ""
        # Published whatever this process last showed: the tab may have been replaced since.
        self._shown.pop((team_id, user_id), None)
        self._tabs.mark((team_id, user_id))

    def show_page(self, team_id: str, user_id: str, section: str, page: int) -> None:
        if section not in home_views.SECTIONS:
            return
        viewer = self._viewer(team_id, user_id)
        viewer.pages[section], viewer.notice = max(0, page), ""
        self._tabs.mark((team_id, user_id))

    def notice(self, team_id: str, user_id: str, message: str) -> None:
        """Tell them something at the top of their tab (what became of what they did there)."""
        self._viewer(team_id, user_id).notice = message
        self._tabs.mark((team_id, user_id))

    def team_changed(self, team_id: str) -> None:
        """Something every tab of the workspace may show changed."""
        now = asyncio.get_running_loop().time()
        for key, viewer in list(self._viewers.items()):
            if now - viewer.seen > self._viewer_ttl:
                del self._viewers[key]
                self._shown.pop(key, None)
            elif key[0] == team_id:
                self._tabs.mark(key)

    def plan_changed(self, team_id: str, plan_id: int) -> None:
        self.team_changed(team_id)

    def plan_finished(self, team_id: str, plan_id: int) -> None:
        self.team_changed(team_id)

    async def settled(self, team_id: str, user_id: str) -> None:
        await self._tabs.settled((team_id, user_id))

    def _viewer(self, team_id: str, user_id: str) -> _Viewer:
        now = asyncio.get_running_loop().time()
        viewer = self._viewers.setdefault((team_id, user_id), _Viewer(seen=now))
        viewer.seen = now
        return viewer

    async def _publish(self, key: tuple[str, str], _: None) -> None:
        team_id, user_id = key
        viewer = self._viewers.get(key) or _Viewer(seen=0.0)
        # Read before the data: a notice is set after what it tells of is stored, so the data read
        # next already holds it; one set meanwhile is shown by the next publish, with fresher data.
        notice = viewer.notice
        async with self._sessions() as session:
            view = await home_views.load(
                session,
                team_id=team_id,
                user_id=user_id,
                policy=self._policy,
                pages=viewer.pages,
                now=self._clock(),
            )
        tab = home_view(view.model_copy(update={"notice": notice}))
        shown = digest(tab)
        if self._shown.get(key) != shown:
            client = await self._clients.for_team(team_id)
            await client.views_publish(user_id=user_id, view=tab)
            self._shown[key] = shown
