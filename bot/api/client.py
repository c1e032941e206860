"""A client of the API, for the `carapulse api plan` commands: JSON calls with the bearer token, and
the event stream of a plan read as server-sent events. Answers are read into the API's own models."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from pydantic import BaseModel, ValidationError

from bot.api.events import END_EVENT, ERROR_EVENT, PLAN_EVENT
from bot.api.models import ErrorBody, PlanCreated, PlanOut, PlanPage
from bot.api.requests import IDEMPOTENCY_HEADER

M = TypeVar("M", bound=BaseModel)

# An event larger than this is refused rather than buffered without end.
MAX_EVENT_BYTES = 16 * 1024 * 1024
CONNECT_TIMEOUT_SECONDS = 10.0


class ApiFailed(Exception):
    """The API answered with a refusal (`status` set) or something that is not the API at all."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class ServerEvent:
    event: str
    data: str


class ApiClient:
    def __init__(self, session: aiohttp.ClientSession, *, base_url: str, token: str) -> None:
        self._session = session
        self._base = base_url.rstrip("/") + "/api/v1"
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    async def create_plan(
        self, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> PlanCreated:
        headers = {IDEMPOTENCY_HEADER: idempotency_key} if idempotency_key else {}
        return await self._call("POST", "/plans", PlanCreated, json=body, headers=headers)

    async def get_plan(self, plan_id: int) -> PlanOut:
        return await self._call("GET", f"/plans/{plan_id}", PlanOut)

    async def list_plans(self, query: Mapping[str, str]) -> PlanPage:
        return await self._call("GET", "/plans", PlanPage, params=query)

    async def cancel_plan(self, plan_id: int) -> PlanOut:
        return await self._call("POST", f"/plans/{plan_id}/cancel", PlanOut)

    async def follow(self, plan_id: int) -> AsyncIterator[PlanOut]:
        """The plan each time it changes, ending with its final state; stops early (with no final
        state) when the server closes the stream, as it does when it shuts down."""
        headers = {**self._headers, "Accept": "text/event-stream"}
        # No read timeout: a plan may wait hours for its approval; the server writes every few seconds.
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_SECONDS)
        url = f"{self._base}/plans/{plan_id}/events"
        async with self._session.get(url, headers=headers, timeout=timeout) as response:
            if response.status != 200:
                raise await _failure(response)
            async for event in server_events(response.content):
                if event.event == ERROR_EVENT:
                    raise ApiFailed(f"the event stream failed: {event.data}")
                if event.event in (PLAN_EVENT, END_EVENT):
                    yield _parsed(PlanOut, event.data)
                if event.event == END_EVENT:
                    return

    async def _call(self, method: str, path: str, model: type[M], **kwargs: Any) -> M:
        headers = {**self._headers, **kwargs.pop("headers", {})}
        timeout = aiohttp.ClientTimeout(total=60, sock_connect=CONNECT_TIMEOUT_SECONDS)
        async with self._session.request(
            method, self._base + path, headers=headers, timeout=timeout, **kwargs
        ) as response:
            if response.status >= 300:
                raise await _failure(response)
            return _parsed(model, await response.text())


async def server_events(content: aiohttp.StreamReader) -> AsyncIterator[ServerEvent]:
    """Events of a text/event-stream (its `event` and `data` fields; comments and `retry` are
    skipped), read in chunks so that a long event is not bound by aiohttp's line limit."""
    buffer = b""
    event, data = "message", []
    async for chunk in content.iter_any():
        *lines, buffer = (buffer + chunk).split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8").removesuffix("\r")
            if not line:
                if data:
                    yield ServerEvent(event, "\n".join(data))
                event, data = "message", []
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
        if len(buffer) + sum(map(len, data)) > MAX_EVENT_BYTES:
            raise ApiFailed(f"an event of the stream is larger than {MAX_EVENT_BYTES} bytes")


async def _failure(response: aiohttp.ClientResponse) -> ApiFailed:
    text = await response.text()
    try:
        message = ErrorBody.model_validate_json(text).message
    except ValidationError:
        message = f"{response.reason}: {text[:200]}" if text else str(response.reason)
    return ApiFailed(message, status=response.status)


def _parsed(model: type[M], text: str) -> M:
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise ApiFailed(f"the answer is not a {model.__name__}: {exc.errors()[0]['msg']}") from None
