"""The edge of Slack's request URL: read the request (capped), check its signature over the exact
bytes sent, then parse the body and check its shape, all before slack_bolt sees it.

slack_bolt's aiohttp adapter decodes the body (`request.text()`) and parses it while building the
request, before it verifies the signature, and its parser and context builder assume Slack's
shapes; so a body Slack would never send raises inside Bolt and the caller gets a 500. Here each
such request is refused with a 4xx and a short reason instead. Refusals before the signature is
known say nothing about the body: the unsigned get Bolt's own 401 answer.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.parse
from collections.abc import Mapping

from aiohttp import web
from slack_bolt.request.async_request import AsyncBoltRequest

from bot import slack_shapes
from bot.edge import Refused, decode, json_object, read_body

# Slack's replay window, the same as slack_sdk's SignatureVerifier.
MAX_CLOCK_SKEW_SECONDS = 300
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


async def admit(request: web.Request, *, signing_secret: str) -> AsyncBoltRequest:
    """The request as Bolt takes it, or Refused (413, 401, 415, 400: checked in that order)."""
    body = await read_body(request)
    _verify_signature(request.headers, body, signing_secret)
    media_type = _media_type(request)
    text = decode(body)
    try:
        slack_shapes.check(_parse(text, media_type))
    except ValueError as exc:
        raise Refused(400, str(exc)) from None
    return AsyncBoltRequest(body=text, query=request.query_string, headers=request.headers)  # type: ignore[arg-type]


def _verify_signature(headers: Mapping[str, str], body: bytes, secret: str) -> None:
    timestamp = headers.get("X-Slack-Request-Timestamp")
    signature = headers.get("X-Slack-Signature")
    if not secret:
        raise Refused(401, "SLACK_SIGNING_SECRET is not set, so no request can be verified")
    if timestamp is None or signature is None:
        raise Refused(401, "no X-Slack-Request-Timestamp or X-Slack-Signature header")
    # Bounded length: int() refuses strings of more than 4300 digits.
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise Refused(401, "X-Slack-Request-Timestamp is not a Unix time")
    if abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        raise Refused(401, f"X-Slack-Request-Timestamp is more than {MAX_CLOCK_SKEW_SECONDS} s off")
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    sent = signature.encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(b"v0=" + digest.hexdigest().encode(), sent):
        raise Refused(401, "X-Slack-Signature does not match the body")


def _media_type(request: web.Request) -> str:
    """Read as slack_bolt reads it (the text before the first `;`, as is), so both parse alike."""
    values = request.headers.getall("Content-Type", [])
    if len(values) != 1:
        raise Refused(415, f"send one Content-Type header: {FORM} or {JSON}")
    media_type, *parameters = values[0].split(";")
    if media_type not in (FORM, JSON):
        raise Refused(415, f"Content-Type must be {FORM} or {JSON}")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() != "utf-8":
            raise Refused(415, "charset must be utf-8")
    return media_type


def _parse(text: str, media_type: str) -> dict[str, object]:
    """The body as slack_bolt's `parse_body` will read it, or Refused where that would raise or
    read it otherwise than Slack meant."""
    if media_type == JSON:
        return json_object(text, "body")
    if text.startswith("{"):
        raise Refused(400, "form body starts with '{', which slack_bolt reads as JSON")
    try:
        fields: dict[str, object] = dict(
            urllib.parse.parse_qsl(text, keep_blank_values=True, errors="strict")
        )
    except UnicodeDecodeError:
        raise Refused(400, "a form field is not UTF-8 once percent-decoded") from None
    # slack_bolt's own test for an interactivity payload: the word anywhere in the body.
    if "payload" not in text:
        return fields
    payload = fields.get("payload")
    if not isinstance(payload, str):
        raise Refused(400, "form mentions 'payload' but has no payload field; slack_bolt reads it as empty")
    return json_object(payload, "payload field")
