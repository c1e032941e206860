"""A loopback gateway in front of moto for what moto cannot do: AWS error answers on demand
(throttling, validation errors), CloudTrail's LookupEvents, which moto does not implement, and states
moto never reaches (an instance Pending, an ECS rollout that completes or fails), written into its answers.

Every other request goes to moto byte for byte, so the AWS tool sees one endpoint that speaks the real
protocols.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web

from tests.fakes.http_server import FakeHttpServer

LOOKUP_EVENTS_TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
_HOP_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "content-encoding"})


@dataclass
class TrailEvent:
    name: str
    username: str
    source: str
    time: datetime
    read_only: bool = False
    resources: list[tuple[str, str]] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    access_key_id: str = "AKIAIOSFODNN7EXAMPLE"

    def matches(self, key: str, value: str) -> bool:
        candidates = {
            "EventId": [self.id],
            "EventName": [self.name],
            "ReadOnly": ["true" if self.read_only else "false"],
            "Username": [self.username],
            "ResourceType": [kind for kind, _ in self.resources],
            "ResourceName": [name for _, name in self.resources],
            "EventSource": [self.source],
            "AccessKeyId": [self.access_key_id],
        }
        return value in candidates[key]

    def wire(self) -> dict[str, Any]:
        return {
            "EventId": self.id,
            "EventName": self.name,
            "ReadOnly": "true" if self.read_only else "false",
            "AccessKeyId": self.access_key_id,
            "EventTime": self.time.timestamp(),
            "EventSource": self.source,
            "Username": self.username,
            "Resources": [{"ResourceType": kind, "ResourceName": name} for kind, name in self.resources],
            "CloudTrailEvent": json.dumps(self.record),
        }


@dataclass
class OperationFault:
    operation: str
    status: int
    body: Any
    times: int


class AwsGateway(FakeHttpServer):
    """`fail_next` (from the base) fails whatever request comes next; `fail_operation` fails only
    calls of one API operation, e.g. the write after an action's read; `rewrite` edits moto's answers
    to one operation; `answered` lets a test change state between two polls of an action."""

    def __init__(self, upstream: str) -> None:
        super().__init__()
        self.upstream = upstream
        self.trail: list[TrailEvent] = []
        self._operation_faults: list[OperationFault] = []
        self._rewrites: dict[str, Callable[[str], str]] = {}
        self._answered = Counter[str]()
        self._answer_seen = asyncio.Condition()
        self._session: aiohttp.ClientSession | None = None

    def routes(self) -> list[web.RouteDef]:
        return [web.route("*", "/{tail:.*}", self._handle)]

    def fail_operation(self, operation: str, status: int, body: Any, *, times: int = 1) -> None:
        self._operation_faults.append(OperationFault(operation, status, body, times))

    def rewrite(self, operation: str, edit: Callable[[str], str] | None) -> None:
        """Pass moto's successful answers to `operation` through `edit` (the body's text in and out)
        from now on; None stops."""
        if edit is None:
            self._rewrites.pop(operation, None)
        else:
            self._rewrites[operation] = edit

    async def answered(self, operation: str, *, times: int = 1, within: float = 10.0) -> None:
        """Return once moto has answered `operation` through the gateway `times` times in all."""
        async with asyncio.timeout(within), self._answer_seen:
            await self._answer_seen.wait_for(lambda: self._answered[operation] >= times)

    def throttle(self, operation: str, *, protocol: Literal["query", "json"], times: int = 1) -> None:
        """Answer the next `times` calls of `operation` the way AWS does when its rate limit is hit."""
        if protocol == "query":
            self.fail_operation(operation, 400, query_error("Throttling", "Rate exceeded"), times=times)
        else:
            body = {"__type": "ThrottlingException", "message": "Rate exceeded"}
            self.fail_operation(operation, 400, body, times=times)

    def operations(self) -> list[str]:
        """The API operation of every request so far, in order."""
        return [_operation(r.path, r.headers, r.body) for r in self.requests]

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
        await super().__aexit__(exc_type, exc, tb)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = (await request.read()).decode(errors="replace")
        operation = _operation(request.path, request.headers, body)
        for fault in self._operation_faults:
            if fault.operation == operation:
                fault.times -= 1
                if fault.times <= 0:
                    self._operation_faults.remove(fault)
                return _answer(fault.status, fault.body)
        if request.headers.get("X-Amz-Target") == LOOKUP_EVENTS_TARGET:
            return self._lookup_events(json.loads(await request.read() or b"{}"))
        answer = await self._forward(request, self._rewrites.get(operation))
        async with self._answer_seen:
            self._answered[operation] += 1
            self._answer_seen.notify_all()
        return answer

    async def _forward(self, request: web.Request, edit: Callable[[str], str] | None) -> web.StreamResponse:
        if self._session is None:
            self._session = aiohttp.ClientSession(auto_decompress=False)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        async with self._session.request(
            request.method,
            self.upstream + request.path_qs,
            headers=headers,
            data=await request.read(),
        ) as answer:
            body = await answer.read()
            if edit is not None and answer.status == 200:
                body = edit(body.decode()).encode()
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_HEADERS}
            return web.Response(status=answer.status, body=body, headers=kept)

    def _lookup_events(self, body: dict[str, Any]) -> web.Response:
        attributes = body.get("LookupAttributes", [])
        if len(attributes) > 1:
            return _json_error("InvalidLookupAttributesException", "You cannot specify more than one lookup.")
        page_size = int(body.get("MaxResults", 50))
        if not 1 <= page_size <= 50:
            return _json_error("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
        start = _time(body.get("StartTime"), datetime.min.replace(tzinfo=UTC))
        end = _time(body.get("EndTime"), datetime.now(UTC))
        found = [
            event
            for event in sorted(self.trail, key=lambda e: e.time, reverse=True)
            if start <= event.time <= end
            and all(event.matches(a["AttributeKey"], a["AttributeValue"]) for a in attributes)
        ]
        offset = int(body.get("NextToken", 0))
        page = found[offset : offset + page_size]
        answer: dict[str, Any] = {"Events": [event.wire() for event in page]}
        if offset + page_size < len(found):
            answer["NextToken"] = str(offset + page_size)
        return web.json_response(answer, content_type="application/x-amz-json-1.1")


def query_error(code: str, message: str, *, sender: bool = True) -> str:
    """The XML error body of the query-protocol services (Auto Scaling, EC2 uses a variant, STS)."""
    kind = "Sender" if sender else "Receiver"
    return (
        '<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">'
        f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )


def _operation(path: str, headers: Mapping[str, str], body: Any) -> str:
    """The operation a request calls: the JSON protocols name it in X-Amz-Target, the CBOR protocol
    in the path (/service/<id>/operation/<name>), the query protocols (Auto Scaling, EC2, STS) in the
    form body's Action field."""
    if "/operation/" in path:
        return path.rsplit("/", 1)[-1]
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    if isinstance(body, str):
        return parse_qs(body).get("Action", [""])[0]
    return ""


def _answer(status: int, body: Any) -> web.Response:
    if isinstance(body, str):
        return web.Response(status=status, text=body, content_type="text/xml")
    return web.json_response(body, status=status, content_type="application/x-amz-json-1.1")


def _json_error(code: str, message: str) -> web.Response:
    return web.json_response(
        {"__type": code, "Message": message}, status=400, content_type="application/x-amz-json-1.1"
    )


def _time(value: Any, default: datetime) -> datetime:
    return datetime.fromtimestamp(float(value), UTC) if value is not None else default
