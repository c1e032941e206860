"""The HTTP surface: Slack's request URL, health and readiness probes, Prometheus metrics, and the
pipeline API (bot/api). Every body is read under one cap (MAX_REQUEST_BYTES, bot/edge.py), and once
the intake closes (shutdown) every request that would start work is answered 503."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import hooks_http, metrics, metrics_db, oauth, slack_requests
from bot.after_ack import RequestGate
from bot.api import routes as api_routes
from bot.api.calls import refused
from bot.api.plan_routes import API_PREFIX
from bot.api.service import ApiService
from bot.bolt_app import RECEIVED_AT
from bot.edge import MAX_REQUEST_BYTES, RETRY_AFTER_SECONDS, Intake, Refused
from bot.incident_desk import IncidentDesk
from bot.incident_settings import IncidentSettings
from bot.readiness import Readiness

if TYPE_CHECKING:
    from bot.app import Carapulse

log = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
# What still answers while the process shuts down: the probes and the metrics.
ALWAYS_ANSWERED = frozenset({"/healthz", "/readyz", "/metrics"})


def service_web_app(carapulse: Carapulse) -> web.Application:
    """The HTTP surface of a built service, as `carapulse serve` answers on it; with OAuth installs,
    also the install page and the redirect Slack sends installers back to."""
    app = web_app(
        carapulse.bolt,
        carapulse.engine,
        carapulse.gate,
        carapulse.intake,
        carapulse.readiness(),
        signing_secret=carapulse.settings.slack_signing_secret,
        max_request_bytes=carapulse.settings.max_request_bytes,
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
    intake: Intake,
    readiness: Readiness,
    *,
    signing_secret: str,
    max_request_bytes: int,
    api: ApiService | None = None,
    hooks: IncidentSettings | None = None,
    incidents: IncidentDesk | None = None,
) -> web.Application:
    """`signing_secret` checks every request to SLACK_EVENTS_PATH (without one, all are refused);
    `gate` learns of every Slack request until it is answered, so follow-up work waits for it;
    `readiness` runs the checks /readyz answers with;
    `api` serves /api/v1/ (None: its paths answer that it is off). With `hooks`, the webhooks are
    served too (each refused until its credential is set). No body over `max_request_bytes` is
    read; once `intake` closes, only ALWAYS_ANSWERED paths answer."""

    async def slack_events(request: web.Request) -> web.Response:
        received = time.perf_counter()
        with gate.answering():
            try:
                bolt_request = await slack_requests.admit(request, signing_secret=signing_secret)
            except slack_requests.Refused as refused:
                log.warning("refused a Slack request: %s %s", refused.status, refused.reason)
                metrics.SLACK_REQUESTS.labels(
                    kind="refused", listener=str(refused.status), outcome="refused"
                ).inc()
                return refused.response()
            # The ack is timed from here (bot/bolt_app.py), reading and checking the body included.
            bolt_request.context[RECEIVED_AT] = received
            return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        checks = await readiness.checks()
        failing = [check.name for check in checks if not check.ok]
        body = {
            "status": "unavailable" if failing else "ready",
            "failing": failing,
            "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in checks},
        }
        readiness.log_change(checks)
        return web.json_response(body, status=503 if failing else 200)

    async def prometheus_metrics(_: web.Request) -> web.Response:
        await metrics_db.refresh(engine)
        response = web.Response(body=generate_latest(REGISTRY))
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return response

    app = web.Application(client_max_size=max_request_bytes, middlewares=[_open_intake(intake)])
    app[MAX_REQUEST_BYTES] = max_request_bytes
    app.router.add_post(SLACK_EVENTS_PATH, slack_events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", prometheus_metrics)
    api_routes.register(app, api)
    if hooks is not None:
        hooks_http.add_routes(app, incidents, hooks)
    return app


def _open_intake(intake: Intake) -> Middleware:
    @web.middleware
    async def refuse_when_closed(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in ALWAYS_ANSWERED:
            return await handler(request)
        try:
            intake.check()
        except Refused as closed:
            if not request.path.startswith(API_PREFIX):
                return closed.response()
            response = refused(closed.status, "shutting_down", closed.reason)
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        return await handler(request)

    return refuse_when_closed
