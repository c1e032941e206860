"""What every HTTP edge of the service shares: a refusal with its status and reason, reading a body
with a size cap, and parsing a JSON object, so Slack's request URL and the webhooks refuse bad
requests alike."""

from __future__ import annotations

import json

from aiohttp import web

_CHUNK_BYTES = 64 * 1024


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
        return web.Response(status=self.status, text=self.reason)


async def read_body(request: web.Request, *, max_bytes: int) -> bytes:
    """The whole body, or Refused(413) as soon as it is known to be larger than `max_bytes`."""
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
