"""Reads what a request carries (JSON body, query, path, headers) into the API's models, refusing
what cannot be read with a reason: 415 for a body that is not JSON, 413 for one over
MAX_REQUEST_BYTES, 400 for broken JSON, 422 for JSON the model refuses (one message per field)."""

from __future__ import annotations

import json
import re
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot.api.errors import ApiRefusal, Invalid, TooLarge
from bot.edge import Refused, read_body
from bot.validation import first_error

M = TypeVar("M", bound=BaseModel)

IDEMPOTENCY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:/-]{1,128}$")


class UnsupportedMediaType(ApiRefusal):
    status = 415
    code = "unsupported_media_type"


async def json_body(request: web.Request, model: type[M]) -> M:
    if request.content_type != "application/json":
        raise UnsupportedMediaType(
            f"send the body as application/json, not {request.content_type or 'nothing'}"
        )
    try:
        raw = await read_body(request)
    except Refused as refused:
        raise TooLarge(refused.reason) from None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiRefusal(f"the body is not valid JSON: {exc}") from None
    return _validated(model, data)


def query(request: web.Request, model: type[M]) -> M:
    repeated = sorted({name for name in request.query if len(request.query.getall(name)) > 1})
    if repeated:
        raise Invalid(
            f"{repeated[0]}: given more than once",
            problems={name: "given more than once" for name in repeated},
        )
    return _validated(model, dict(request.query))


def plan_id(request: web.Request) -> int:
    """The `{plan_id}` of the path; the route only matches digits."""
    value = int(request.match_info["plan_id"])
    if not 0 < value < 2**31:
        raise Invalid(f"plan id {value} is out of range", problems={"plan_id": "out of range"})
    return value


def idempotency_key(request: web.Request) -> str | None:
    """A retried request with the same key returns the plan the first made instead of a second one."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.match(key):
        raise ApiRefusal(f"{IDEMPOTENCY_HEADER} must be 1-128 letters, digits or ._:/-")
    return key


def _validated(model: type[M], data: object) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = {
            ".".join(str(part) for part in error["loc"]) or "body": error["msg"] for error in exc.errors()
        }
        raise Invalid(first_error(exc), problems=problems) from None
