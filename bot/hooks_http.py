"""`POST /hooks/{alertmanager,argocd,git,k8s}`: each request is read with a size cap, authenticated
over its exact bytes, parsed into its typed model and stored; the Slack work it causes runs in
tasks, so a webhook is answered in milliseconds. Refusals are 404 (hook not configured), 413, 401,
415 and 400 (with the reason), checked in that order; each is one WARNING line, never the body."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot import incident_ops, metrics, service_events
from bot.alert_bodies import AlertmanagerWebhook
from bot.clock import utcnow
from bot.edge import Refused, decode, json_object, read_body
from bot.hook_auth import GITHUB_SIGNATURE_HEADER, HookAuth
from bot.incident_desk import IncidentDesk
from bot.incident_settings import IncidentSettings
from bot.validation import first_error

log = logging.getLogger(__name__)

JSON = "application/json"
M = TypeVar("M", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.Response]]
# A hook's own part: the desk, the request (for its headers) and the body as UTF-8 text.
Hook = Callable[[IncidentDesk, web.Request, str], Awaitable[web.Response]]


def add_routes(app: web.Application, desk: IncidentDesk | None, settings: IncidentSettings) -> None:
    auths = credentials(settings)
    hooks: dict[str, Hook] = {
        "alertmanager": _alertmanager,
        "argocd": _argocd,
        "git": _git,
        "k8s": _kubernetes,
    }
    for name, hook in hooks.items():
        app.router.add_post(f"/hooks/{name}", _handler(name, auths[name], desk, hook))


def credentials(settings: IncidentSettings) -> dict[str, HookAuth]:
    return {
        "alertmanager": HookAuth(
            "ALERTMANAGER_HOOK_TOKEN or ALERTMANAGER_HOOK_SECRET",
            bearer=settings.alertmanager_hook_token,
            hmac_secret=settings.alertmanager_hook_secret,
        ),
        "argocd": HookAuth(
            "ARGOCD_HOOK_TOKEN or ARGOCD_HOOK_SECRET",
            bearer=settings.argocd_hook_token,
            hmac_secret=settings.argocd_hook_secret,
        ),
        "git": HookAuth(
            "GITHUB_HOOK_SECRET or GITLAB_HOOK_TOKEN",
            hmac_secret=settings.github_hook_secret,
            signature_header=GITHUB_SIGNATURE_HEADER,
            token=settings.gitlab_hook_token,
        ),
        "k8s": HookAuth(
            "K8S_HOOK_TOKEN or K8S_HOOK_SECRET",
            bearer=settings.k8s_hook_token,
            hmac_secret=settings.k8s_hook_secret,
        ),
    }


def _handler(
    name: str,
    auth: HookAuth,
    desk: IncidentDesk | None,
    hook: Hook,
) -> Handler:
    async def answer(request: web.Request) -> web.Response:
        try:
            if desk is None or not auth.configured:
                raise Refused(404, f"/hooks/{name} is not configured: set {auth.settings}")
            body = await read_body(request)
            auth.check(request.headers, body)
            _require_json(request)
            return await hook(desk, request, decode(body))
        except Refused as refused:
            log.warning("refused a webhook to /hooks/%s: %s %s", name, refused.status, refused.reason)
            return refused.response()

    async def handle_hook(request: web.Request) -> web.Response:
        try:
            response = await answer(request)
        except Exception:
            metrics.WEBHOOKS.labels(source=name, status="500").inc()
            raise
        metrics.WEBHOOKS.labels(source=name, status=str(response.status)).inc()
        return response

    return handle_hook


async def _alertmanager(desk: IncidentDesk, request: web.Request, text: str) -> web.Response:
    webhook = _model(AlertmanagerWebhook, text)
    intake = await incident_ops.take_alerts(desk, webhook)
    return web.json_response({"status": "accepted", "incidents": sorted(intake.changed)})


async def _argocd(desk: IncidentDesk, request: web.Request, text: str) -> web.Response:
    event = service_events.from_argocd(
        _model(service_events.ArgoCdNotification, text), desk.settings.incident_services, utcnow()
    )
    return await _store(desk, event)


async def _git(desk: IncidentDesk, request: web.Request, text: str) -> web.Response:
    services, now = desk.settings.incident_services, utcnow()
    if "X-Gitlab-Event" in request.headers:
        event = service_events.from_gitlab(_model(service_events.GitLabEvent, text), services, now)
        return await _store(desk, event)
    kind = request.headers.get("X-GitHub-Event", "")
    if kind == "ping":
        return web.json_response({"status": "pong"})
    if kind not in service_events.GITHUB_EVENTS:
        raise Refused(
            400, f"X-GitHub-Event {kind or '(missing)'} is not one of push, deployment, deployment_status"
        )
    github = _model(service_events.GitHubEvent, text)
    return await _store(desk, service_events.from_github(kind, github, services, now))


async def _kubernetes(desk: IncidentDesk, request: web.Request, text: str) -> web.Response:
    event = service_events.from_kubernetes(
        _model(service_events.KubernetesEvent, text), desk.settings.incident_services, utcnow()
    )
    return await _store(desk, event)


async def _store(desk: IncidentDesk, event: service_events.ServiceEventIn) -> web.Response:
    await incident_ops.take_service_event(desk, event)
    return web.json_response({"status": "accepted", "service": event.service, "kind": event.kind})


def _require_json(request: web.Request) -> None:
    values = request.headers.getall("Content-Type", [])
    media_type, *parameters = (values[0] if len(values) == 1 else "").split(";")
    if media_type.strip().lower() != JSON:
        raise Refused(415, f"Content-Type must be {JSON}")
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip('"').lower() != "utf-8":
            raise Refused(415, "charset must be utf-8")


def _model(model: type[M], text: str) -> M:
    try:
        return model.model_validate(json_object(text, "body"))
    except ValidationError as exc:
        raise Refused(400, f"not a {model.__name__}: {first_error(exc)}") from None
