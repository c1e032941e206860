"""Background work finds each workspace's client through the installation store: the token of the
latest install, and a clear refusal for a workspace that never installed."""

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import oauth
from bot.slack_clients import InstalledWorkspaces, NotInstalled

CLIENT_ID = "1111.2222"


def _installed(team_id: str, token: str) -> Installation:
    return Installation(
        app_id="A0123CARAPL", team_id=team_id, bot_token=token, bot_id="B1", bot_user_id="U1", user_id="U2"
    )


async def test_each_team_gets_the_token_of_its_latest_install(engine: AsyncEngine) -> None:
    store = oauth.installation_store(engine, client_id=CLIENT_ID)
    clients = InstalledWorkspaces(store, base_url="http://127.0.0.1:9/api/")
    await store.async_save(_installed("T0123ALPHA0", "xoxb-alpha-1"))
    await store.async_save(_installed("T0456BETA00", "xoxb-beta"))

    alpha = await clients.for_team("T0123ALPHA0")
    assert (alpha.token, (await clients.for_team("T0456BETA00")).token) == ("xoxb-alpha-1", "xoxb-beta")
    assert await clients.for_team("T0123ALPHA0") is alpha

    await store.async_save(_installed("T0123ALPHA0", "xoxb-alpha-2"))
    assert (await clients.for_team("T0123ALPHA0")).token == "xoxb-alpha-2"


async def test_a_team_that_never_installed_is_named(engine: AsyncEngine) -> None:
    clients = InstalledWorkspaces(oauth.installation_store(engine, client_id=CLIENT_ID), base_url="x")
    with pytest.raises(NotInstalled, match="not installed in workspace T0999NOBODY"):
        await clients.for_team("T0999NOBODY")
