"""Installs to many workspaces through Bolt's OAuth flow: /slack/install starts it, Slack sends the
person back to /slack/oauth_redirect with a code, oauth.v2.access turns the code into the
workspace's bot token, and the installation is stored in Carapulse's own database (slack_sdk's
SQLAlchemy stores on the async engine, tables made by migration 0015).

OAuth mode is on when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set; otherwise SLACK_BOT_TOKEN
names the one workspace."""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.ext.asyncio import AsyncEngine

OAUTH_INSTALL_PATH = "/slack/install"
OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"
# How long a person has between opening the install page and coming back from Slack.
STATE_EXPIRATION_SECONDS = 600

# The bot scopes an install asks for: exactly manifest.yml's (tests/integration/test_manifest.py
# checks both against the methods and events the code uses).
BOT_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "channels:manage",
    "chat:write",
    "commands",
    "files:write",
    "groups:history",
    "im:write",
    "usergroups:read",
    "users:read",
    "users:read.email",
)


def installation_store(engine: AsyncEngine, *, client_id: str) -> AsyncSQLAlchemyInstallationStore:
    return AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=engine)


def oauth_settings(
    engine: AsyncEngine, *, client_id: str, client_secret: str, redirect_uri: str | None
) -> AsyncOAuthSettings:
    return AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        redirect_uri=redirect_uri,
        install_path=OAUTH_INSTALL_PATH,
        redirect_uri_path=OAUTH_REDIRECT_PATH,
        installation_store=installation_store(engine, client_id=client_id),
        # Bot tokens only: Carapulse never acts as the person who installed it.
        installation_store_bot_only=True,
        state_store=AsyncSQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_EXPIRATION_SECONDS, engine=engine
        ),
        state_expiration_seconds=STATE_EXPIRATION_SECONDS,
    )


def add_routes(app: web.Application, flow: AsyncOAuthFlow) -> None:
    """Serve the install page and the redirect Slack sends the installer back to."""

    async def install(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

    async def redirect(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

    app.router.add_get(OAUTH_INSTALL_PATH, install)
    app.router.add_get(OAUTH_REDIRECT_PATH, redirect)
