"""The playground's web page and its JSON API: the page (static/), a snapshot of what a person sees,
an event stream that sends it again on every change, and the gestures a person makes.

Served on 127.0.0.1 only. A request whose Host is not this server's address is refused (a DNS
rebinding page cannot use it), and every POST must be JSON, which a cross-site form cannot send.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from bot.playground import demo
from bot.playground.alerts import AlertSender
from bot.playground.feed import Feed
from bot.playground.gestures import GestureRefused, Gestures
from bot.playground.snapshot import shared_file, snapshot
from bot.playground.surfaces import Surfaces

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
KEEPALIVE_SECONDS = 15.0
_LOCAL_HOSTS = ("127.0.0.1", "localhost")

Text = Annotated[str, StringConstraints(max_length=4000)]
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
Body = TypeVar("Body", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Gesture(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    user: Id


class Say(_Gesture):
    channel: Id
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000)]
    thread_ts: Id | None = None


class Click(_Gesture):
    where: Literal["message", "ephemeral", "home"]
    action_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    value: Text = ""
    channel: Id | None = None
    message_ts: Id | None = None
    ephemeral: Id | None = None


class Submit(_Gesture):
    view_id: Id
    values: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)


class ViewRef(_Gesture):
    view_id: Id


class EphemeralRef(_Gesture):
    ephemeral: Id


class Alert(_Gesture):
    service: Id
    status: Literal["firing", "resolved"] = "firing"
    severity: Literal["warning", "critical"] = "warning"


class Page:
    def __init__(self, *, gestures: Gestures, alerts: AlertSender) -> None:
        self.gestures = gestures
        self.alerts = alerts
        self.slack = gestures.slack
        self.surfaces: Surfaces = gestures.surfaces
        self.feed: Feed = gestures.feed

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_local_only], client_max_size=256 * 1024)
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC)
        app.router.add_get("/api/state", self._state)
        app.router.add_get("/api/events", self._events)
        app.router.add_get("/files/{file_id}", self._file)
        app.router.add_post("/api/say", self._say)
        app.router.add_post("/api/click", self._click)
        app.router.add_post("/api/submit", self._submit)
        app.router.add_post("/api/close", self._close)
        app.router.add_post("/api/dismiss", self._dismiss)
        app.router.add_post("/api/home", self._home)
        app.router.add_post("/api/alert", self._alert)
        app.cleanup_ctx.append(self._watching)
        return app

    async def _index(self, _: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html", headers=_PAGE_HEADERS)

    async def _state(self, request: web.Request) -> web.Response:
        user = _person(request.query.get("user", ""))
        return web.json_response(self._snapshot(user))

    async def _events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: `state` with the whole snapshot at once and after every change."""
        user = _person(request.query.get("user", ""))
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        await response.prepare(request)
        sent = -1
        with contextlib.suppress(ConnectionResetError):
            while True:
                version = self.feed.version
                if version != sent:
                    data = json.dumps(self._snapshot(user), separators=(",", ":"))
                    await response.write(f"event: state\ndata: {data}\n\n".encode())
                    sent = version
                else:
                    await response.write(b": keep-alive\n\n")
                await self.feed.wait_past(sent, timeout=KEEPALIVE_SECONDS)
        return response

    async def _file(self, request: web.Request) -> web.Response:
        upload = shared_file(self.slack, request.match_info["file_id"])
        if upload is None or upload.content is None:
            raise web.HTTPNotFound(text="no such file was shared")
        if upload.content.startswith(b"\x89PNG\r\n\x1a\n"):
            return web.Response(body=upload.content, content_type="image/png", headers=_FILE_HEADERS)
        disposition = f"attachment; filename*=UTF-8''{quote(upload.filename, safe='')}"
        return web.Response(
            body=upload.content,
            content_type="text/plain",
            charset="utf-8",
            headers={**_FILE_HEADERS, "Content-Disposition": disposition},
        )

    async def _say(self, request: web.Request) -> web.Response:
        say = await _body(request, Say)
        await self.gestures.say(user=say.user, channel=say.channel, text=say.text, thread_ts=say.thread_ts)
        return _done()

    async def _click(self, request: web.Request) -> web.Response:
        click = await _body(request, Click)
        if click.where == "home":
            await self.gestures.click_home(user=click.user, action_id=click.action_id, value=click.value)
        elif click.where == "ephemeral":
            await self.gestures.click_ephemeral(
                user=click.user,
                ephemeral_id=_required(click.ephemeral, "ephemeral"),
                action_id=click.action_id,
                value=click.value,
            )
        else:
            await self.gestures.click(
                user=click.user,
                channel=_required(click.channel, "channel"),
                message_ts=_required(click.message_ts, "message_ts"),
                action_id=click.action_id,
                value=click.value,
            )
        return _done()

    async def _submit(self, request: web.Request) -> web.Response:
        submit = await _body(request, Submit)
        submitted = await self.gestures.submit(user=submit.user, view_id=submit.view_id, values=submit.values)
        return web.json_response({"closed": submitted.closed, "errors": submitted.errors})

    async def _close(self, request: web.Request) -> web.Response:
        ref = await _body(request, ViewRef)
        self.gestures.close(user=ref.user, view_id=ref.view_id)
        return _done()

    async def _dismiss(self, request: web.Request) -> web.Response:
        ref = await _body(request, EphemeralRef)
        try:
            self.surfaces.dismiss(ref.user, ref.ephemeral)
        except LookupError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        self.feed.bump()
        return _done()

    async def _home(self, request: web.Request) -> web.Response:
        person = await _body(request, _Gesture)
        await self.gestures.open_home(user=person.user)
        return _done()

    async def _alert(self, request: web.Request) -> web.Response:
        alert = await _body(request, Alert)
        try:
            posted = await self.alerts.send(
                service=alert.service, status=alert.status, severity=alert.severity
            )
        except LookupError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return web.json_response({"status": posted.status, "answer": posted.text[:500]})

    def _snapshot(self, user: str) -> dict[str, Any]:
        return snapshot(self.slack, self.surfaces, user=user, version=self.feed.version)

    async def _watching(self, _: web.Application) -> AsyncIterator[None]:
        """Owns the task that reads the fake Slack's record as it grows, for as long as the page runs."""
        task = asyncio.create_task(self._watch(), name="playground-watch")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _record_grown(self, seen: tuple[int, int]) -> None:
        with contextlib.suppress(TimeoutError):
            await self.slack.wait_until(lambda: self.surfaces.record_size != seen, timeout=3600)

    async def _watch(self) -> None:
        while True:
            await self._record_grown(self.surfaces.record_size)
            self.surfaces.catch_up()
            self.feed.bump()


_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    # Nothing but this server: no script, style, image or connection elsewhere.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'"}


@web.middleware
async def _local_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    host = (request.host or "").rsplit(":", 1)[0]
    if host not in _LOCAL_HOSTS:
        return web.Response(status=421, text=f"the playground answers 127.0.0.1 and localhost, not {host!r}")
    try:
        return await handler(request)
    except GestureRefused as exc:
        return web.json_response({"error": str(exc)}, status=400)


async def _body(request: web.Request, model: type[Body]) -> Body:
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="send the gesture as application/json")
    try:
        body = model.model_validate_json(await request.read())
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "body"
        raise web.HTTPBadRequest(text=f"{where}: {error['msg']}") from None
    if isinstance(body, _Gesture):
        _person(body.user)
    return body


def _person(user: str) -> str:
    if user not in {p.id for p in demo.PEOPLE}:
        known = ", ".join(f"{p.id} ({p.part})" for p in demo.PEOPLE)
        raise web.HTTPBadRequest(text=f"user must be one of {known}")
    return user


def _required(value: str | None, name: str) -> str:
    if value is None:
        raise web.HTTPBadRequest(text=f"{name} is required here")
    return value


def _done() -> web.Response:
    return web.json_response({"ok": True})
