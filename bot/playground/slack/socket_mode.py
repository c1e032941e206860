"""Slack's end of Socket Mode, on the fake Slack's port: the WebSocket URLs that apps.connections.open
hands out, speaking the envelope protocol of docs.slack.dev/apis/events-api/using-socket-mode.

A connection opens with a one-use ticket and is greeted with `hello`. `deliver()` wraps a payload in
an envelope (`events_api`, `slash_commands` or `interactive`), sends it over one open connection
(taking them in turn, as Slack spreads envelopes over an app's connections) and waits for the ack,
`{"envelope_id": …, "payload": …?}`, whose payload it returns. `refresh()` sends `disconnect` with
reason `refresh_requested` and waits for the client to open a new connection (calling
apps.connections.open again) and let the old one go. What a client sends that Slack would not take
(an ack for no envelope, text that is not JSON, a late ack) is recorded in `violations`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from bot.playground.slack.state import APP_ID, Workspace

# Slack's limit on open Socket Mode connections per app.
MAX_CONNECTIONS = 10
# How long Slack waits for an ack before it counts the envelope as failed (and retries events).
ACK_SECONDS = 3.0
KINDS = ("events_api", "slash_commands", "interactive")
_HOST = "applink-fake-1"
_DEBUG_INFO = {"host": _HOST, "build_number": 1, "approximate_connection_time": 18060}
_REFRESH = {"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": _HOST}}


class NoConnection(Exception):
    """No Socket Mode connection is open to deliver over."""


class NotAcknowledged(Exception):
    """The client did not ack an envelope within ACK_SECONDS."""


@dataclass(frozen=True)
class Ack:
    envelope_id: str
    kind: str
    payload: dict[str, Any] | None


@dataclass(eq=False)
class _Connection:
    socket: web.WebSocketResponse
    number: int
    # Sent `disconnect`: no new envelopes go over it.
    leaving: bool = False
    closed: asyncio.Event = field(default_factory=asyncio.Event)


class SocketModeServer:
    def __init__(self, workspace: Workspace, *, changed: Callable[[], None], violate: Callable[[str], None]):
        self._workspace = workspace
        self._changed = changed
        self._violate = violate
        self._connections: list[_Connection] = []
        self._numbers = itertools.count(1)
        self._turns = itertools.count()
        self._pending: dict[str, tuple[str, asyncio.Future[dict[str, Any] | None]]] = {}
        self._opened = asyncio.Condition()
        self.acks: list[Ack] = []
        # How many connections were ever opened (a reconnect makes one more).
        self.connections_opened = 0

    @property
    def open_connections(self) -> int:
        return sum(1 for c in self._connections if not c.leaving)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """GET /link/?ticket=…: the WebSocket a Socket Mode client connects to."""
        ticket = request.query.get("ticket", "")
        if ticket not in self._workspace.socket_tickets:
            self._violate(
                f"/link/: ticket {ticket!r} was not handed out by apps.connections.open, or is used"
            )
            raise web.HTTPUnauthorized(text="invalid ticket")
        if len(self._connections) >= MAX_CONNECTIONS:
            self._violate(f"/link/: more than {MAX_CONNECTIONS} Socket Mode connections at once")
            raise web.HTTPTooManyRequests(text="too_many_websockets")
        self._workspace.socket_tickets.discard(ticket)
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        connection = _Connection(socket, next(self._numbers))
        self._connections.append(connection)
        self.connections_opened += 1
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": len(self._connections),
                "debug_info": _DEBUG_INFO,
                "connection_info": {"app_id": APP_ID},
            }
        )
        async with self._opened:
            self._opened.notify_all()
        self._changed()
        try:
            await self._receive(connection)
        finally:
            self._connections.remove(connection)
            connection.closed.set()
            self._changed()
        return socket

    async def wait_connected(self, count: int = 1, *, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Until at least `count` connections are open (and not leaving)."""
        async with asyncio.timeout(timeout), self._opened:
            await self._opened.wait_for(lambda: self.open_connections >= count)

    async def deliver(
        self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool = False, **extra: Any
    ) -> dict[str, Any] | None:
        """Send one envelope and return the payload of its ack (None when the ack has none).
        `extra` adds fields such as retry_attempt and retry_reason (events_api)."""
        if kind not in KINDS:
            raise ValueError(f"{kind!r} is not an envelope type Slack sends ({', '.join(KINDS)})")
        connection = self._next_connection()
        envelope_id = str(uuid.uuid4())
        acked: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = (kind, acked)
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            **extra,
        }
        try:
            await connection.socket.send_json(envelope)
            async with asyncio.timeout(ACK_SECONDS):
                return await acked
        except TimeoutError:
            raise NotAcknowledged(f"no ack for {kind} envelope {envelope_id} within {ACK_SECONDS}s") from None
        finally:
            self._pending.pop(envelope_id, None)

    async def refresh(self, *, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Ask every open connection to reconnect, as Slack does every few hours, and wait until
        each was replaced by a new one and closed."""
        leaving = [c for c in self._connections if not c.leaving]
        for connection in leaving:
            connection.leaving = True
            await connection.socket.send_json(
                {
                    "type": "disconnect",
                    "reason": "refresh_requested",
                    "debug_info": {"host": _DEBUG_INFO["host"]},
                }
            )
        await self.wait_connected(len(leaving), timeout=timeout)
        async with asyncio.timeout(timeout):
            for connection in leaving:
                await connection.closed.wait()

    async def close(self) -> None:
        for connection in list(self._connections):
            await connection.socket.close()

    def _next_connection(self) -> _Connection:
        open_ = [c for c in self._connections if not c.leaving and not c.socket.closed]
        if not open_:
            raise NoConnection("no Socket Mode connection is open: start the app with --socket first")
        return open_[next(self._turns) % len(open_)]

    async def _receive(self, connection: _Connection) -> None:
        async for message in connection.socket:
            if message.type != WSMsgType.TEXT:
                continue
            with contextlib.suppress(ValueError):
                self._take_ack(json.loads(message.data))
                continue
            self._violate(f"socket {connection.number}: sent text that is not JSON: {message.data[:80]!r}")

    def _take_ack(self, ack: Any) -> None:
        envelope_id = ack.get("envelope_id") if isinstance(ack, dict) else None
        pending = self._pending.get(envelope_id) if isinstance(envelope_id, str) else None
        if pending is None:
            self._violate(f"socket: an ack for no envelope awaiting one: {str(ack)[:120]}")
            return
        kind, acked = pending
        payload = ack.get("payload")
        if payload is not None and not isinstance(payload, dict):
            self._violate(f"socket: the ack of {envelope_id} has a payload that is not an object")
        self.acks.append(Ack(envelope_id, kind, payload))
        if not acked.done():
            acked.set_result(payload)
        self._changed()
