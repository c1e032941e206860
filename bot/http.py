"""The HTTP surface: Slack's request URL, health and readiness probes, Prometheus metrics, and the
pipeline API (bot/api)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import hooks_http, oauth, slack_requests
from bot.after_ack import RequestGate
from bot.api import routes as api_routes
from bot.api.service import ApiService
from bot.incident_desk import IncidentDesk
from bot.incident_settings import IncidentSettings

if TYPE_CHECKING:
    from bot.app import Carapulse

log = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"


def service_web_app(carapulse: Carapulse) -> web.Application:
    """The HTTP surface of a built service, as `carapulse serve` answers on it; with OAuth installs,
    also the install page and the redirect Slack sends installers back to."""
    app = web_app(
        carapulse.bolt,
        carapulse.engine,
        carapulse.gate,
        signing_secret=carapulse.settings.slack_signing_secret,
        api=carapulse.api,
        hooks=carapulse.settings,
        incidents=carapulse.incidents,
    )
    if carapulse.bolt.oauth_flow is not None:
        oauth.add_routes(app, carapulse.bolt.oauth_flow)
    return app


def web_app(
    bolt: AsyncApp,
    engine: AsyncEngine,
    gate: RequestGate,
    *,
    signing_secret: str,
    api: ApiService | None = None,
    hooks: IncidentSettings | None = None,
    incidents: IncidentDesk | None = None,
) -> web.Application:
    """`signing_secret` checks every request to SLACK_EVENTS_PATH (without one, all are refused);
    `gate` learns of every Slack request until it is answered, so follow-up work waits for it;
    `api` serves /api/v1/ (None: its paths answer that it is off). With `hooks`, the webhooks are
    served too (each refused until its credential is set)."""

    async def slack_events(request: web.Request) -> web.Response:
        with gate.answering():
            try:
                bolt_request = await slack_requests.admit(request, signing_secret=signing_secret)
            except slack_requests.Refused as refused:
                log.warning("refused a Slack request: %s %s", refused.status, refused.reason)
                return refused.response()
            return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            return web.json_response({"status": "unavailable", "database": str(exc)}, status=503)
        return web.json_response({"status": "ready"})

    async def metrics(_: web.Request) -> web.Response:
        response = web.Response(body=generate_latest(REGISTRY))
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return response

    app = web.Application()
    app.router.add_post(SLACK_EVENTS_PATH, slack_events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    api_routes.register(app, api)
    if hooks is not None:
        hooks_http.add_routes(app, incidents, hooks)
    return app
