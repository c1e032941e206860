"""What every HTTP edge of the service shares: a refusal with its status and reason, reading a body
with the one size cap (MAX_REQUEST_BYTES), parsing a JSON object, and the intake that closes when
the process starts shutting down, so Slack's request URL, the webhooks and the API refuse bad
requests alike."""

from __future__ import annotations

import json

from aiohttp import web

_CHUNK_BYTES = 64 * 1024
# Slack's own requests are a few KiB, an Alertmanager batch of a thousand alerts a few hundred.
DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024
# The cap of every body the application reads, set by bot.http from MAX_REQUEST_BYTES.
MAX_REQUEST_BYTES = web.AppKey("max_request_bytes", int)
# How long a caller refused while this process shuts down should wait before trying again.
RETRY_AFTER_SECONDS = 5


class Refused(Exception):
    """A request answered at the edge. `reason` goes to the log, and to the caller unless the
    request failed its authentication."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> web.Response:
        if self.status == web.HTTPUnauthorized.status_code:
            return web.json_response({"error": "invalid request"}, status=self.status)  # Bolt's answer
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if self.status == SHUTTING_DOWN else {}
        return web.Response(status=self.status, text=self.reason, headers=headers)


SHUTTING_DOWN = web.HTTPServiceUnavailable.status_code


class Intake:
    """Whether this process takes new requests. It closes when shutdown begins: from then on Slack
    requests, webhooks and API calls are answered 503 with Retry-After (Slack retries, a load
    balancer moves on to another replica) while the probes and /metrics still answer."""

    def __init__(self) -> None:
        self.open = True

    def close(self) -> None:
        self.open = False

    def check(self) -> None:
        if not self.open:
            raise Refused(SHUTTING_DOWN, "this replica is shutting down; try again")


def max_request_bytes(request: web.Request) -> int:
    return request.config_dict.get(MAX_REQUEST_BYTES, DEFAULT_MAX_REQUEST_BYTES)


async def read_body(request: web.Request) -> bytes:
    """The whole body, or Refused(413) as soon as it is known to be larger than the application's
    MAX_REQUEST_BYTES (a declared Content-Length is refused before anything is read)."""
    max_bytes = max_request_bytes(request)
    too_large = Refused(413, f"body is larger than {max_bytes} bytes")
    if (request.content_length or 0) > max_bytes:
        raise too_large
    body = bytearray()
    async for chunk in request.content.iter_chunked(_CHUNK_BYTES):
        body += chunk
        if len(body) > max_bytes:
            raise too_large
    return bytes(body)


def decode(body: bytes) -> str:
    if not body:
        raise Refused(400, "body is empty")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(400, f"body is not UTF-8 (byte {exc.start})") from None


def json_object(text: str, what: str) -> dict[str, object]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Refused(400, f"{what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise Refused(400, f"{what} is not a JSON object")
    return value
