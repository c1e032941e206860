"""The Web API client of each workspace. In single-workspace mode every team gets the one client of
SLACK_BOT_TOKEN; with OAuth installs, the client of the bot token the team's installation stored.
Work that runs outside a Slack request (the notifier, App Home, file uploads) asks here for the
client of the workspace it writes to, so each workspace's calls carry that workspace's token."""

from __future__ import annotations

from typing import Protocol

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UserError
from bot.slack_web import slack_client


class NotInstalled(UserError):
    def __init__(self, team_id: str) -> None:
        super().__init__(f"Carapulse is not installed in workspace {team_id}; install it at /slack/install.")
        self.team_id = team_id


class SlackClients(Protocol):
    async def for_team(self, team_id: str) -> AsyncWebClient:
        """The client whose token acts in `team_id`; raises NotInstalled when there is none."""
        ...


class SingleWorkspace:
    """SLACK_BOT_TOKEN mode: one workspace, one client."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def for_team(self, team_id: str) -> AsyncWebClient:
        return self.client


class InstalledWorkspaces:
    """OAuth mode: the bot token of each team is read from the installation store on every call, so
    a reinstall (a new token) or an uninstall is seen at once by every replica."""

    def __init__(self, store: AsyncInstallationStore, *, base_url: str) -> None:
        self._store = store
        self._base_url = base_url
        # One client per team, kept while its token stays the same (clients hold no connection).
        self._clients: dict[str, AsyncWebClient] = {}

    async def for_team(self, team_id: str) -> AsyncWebClient:
        bot = await self._store.async_find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            raise NotInstalled(team_id)
        client = self._clients.get(team_id)
        if client is None or client.token != bot.bot_token:
            client = self._clients[team_id] = slack_client(bot.bot_token, self._base_url)
        return client
