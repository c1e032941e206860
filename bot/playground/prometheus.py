"""The playground's Prometheus: `/api/v1/query` and `/api/v1/query_range` answered from synthetic series.

The real server may not be installed where someone tries the playground, and it would have nothing to
scrape there. Each demo service has one series, `service:http_errors:ratio_rate5m{namespace, service}`:
an error ratio of a few per mille that drifts slowly. An incident fired from the page raises it to about
12 % from that moment until the service's Deployment changes (a restart, a scale or a rollback bumps
its generation, as a fix would) or the alert is resolved, so verify checks and incident charts have
something true to show.

Only what the playground's checks and alert rules use is understood: one metric selector with label
matchers, optionally compared with a number (`… > 0.05`, a filter as in PromQL). Any other expression
is answered as Prometheus answers one it cannot parse (400, errorType bad_data), saying what is.
"""

from __future__ import annotations

import math
import re
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

ERROR_RATIO = "service:http_errors:ratio_rate5m"
INCIDENT_RATIO = 0.12
MAX_POINTS = 11_000  # Prometheus refuses longer range queries the same way
_BASE_RATIO = 0.004
_DRIFT = 0.002
_DRIFT_PERIOD_SECONDS = 900.0

_SELECTOR = re.compile(
    r"^\s*(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(?P<matchers>[^{}]*)\})?\s*"
    r"(?:(?P<op>==|!=|>=|<=|>|<)\s*(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))?\s*$"
)
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')
_MATCHES: dict[str, Callable[[str, str], bool]] = {
    "=": lambda value, wanted: value == wanted,
    "!=": lambda value, wanted: value != wanted,
    "=~": lambda value, wanted: re.fullmatch(wanted, value) is not None,
    "!~": lambda value, wanted: re.fullmatch(wanted, value) is None,
}
_COMPARES: dict[str, Callable[[float, float], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
}
SUPPORTED = (
    'one metric selector with label matchers, optionally compared with a number (metric{a="b"} > 0.05)'
)


class BadQuery(ValueError):
    """The expression or a parameter is not something this stand-in answers."""


@dataclass
class Incident:
    """A raised error ratio: from `start` until the Deployment's generation moves past `generation`."""

    start: float
    generation: int
    end: float | None = None


@dataclass(frozen=True)
class Query:
    name: str
    matchers: tuple[tuple[str, str, str], ...]
    compare: tuple[str, float] | None

    def selects(self, labels: Mapping[str, str]) -> bool:
        return labels.get("__name__") == self.name and all(
            _MATCHES[op](labels.get(label, ""), wanted) for label, op, wanted in self.matchers
        )

    def keeps(self, value: float) -> bool:
        return self.compare is None or _COMPARES[self.compare[0]](value, self.compare[1])


def parse(expr: str) -> Query:
    found = _SELECTOR.fullmatch(expr)
    if found is None:
        raise BadQuery(f"the playground's Prometheus understands {SUPPORTED}, not {expr!r}")
    matchers = _matchers(found["matchers"] or "")
    compare = (found["op"], float(found["number"])) if found["op"] else None
    return Query(found["name"], matchers, compare)


# Reads the current generation of a Deployment (namespace, name), or None once it is gone.
GenerationOf = Callable[[str, str], int | None]


class DemoPrometheus:
    """The series of the demo services; `app()` serves them in Prometheus's HTTP API shapes."""

    def __init__(
        self,
        services: Mapping[str, tuple[str, str]],
        *,
        generation_of: GenerationOf,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`services` maps a service to the (namespace, deployment) that serves it."""
        self.services = dict(services)
        self._generation_of = generation_of
        self._clock = clock
        self._incidents: dict[str, list[Incident]] = {}

    def raise_errors(self, service: str) -> None:
        """From now on `service` fails about INCIDENT_RATIO of its requests, until its Deployment changes."""
        namespace, deployment = self._known(service)
        ongoing = self._ongoing(service)
        if ongoing is None:
            generation = self._generation_of(namespace, deployment) or 0
            self._incidents.setdefault(service, []).append(Incident(self._clock(), generation))

    def calm(self, service: str) -> None:
        """End the raised ratio of `service` now (its alert was resolved)."""
        ongoing = self._ongoing(service)
        if ongoing is not None:
            ongoing.end = self._clock()

    def value(self, service: str, at: float) -> float:
        self._notice_fixes()
        drift = _DRIFT * math.sin(2 * math.pi * at / _DRIFT_PERIOD_SECONDS + _phase(service))
        raised = any(
            incident.start <= at and (incident.end is None or at < incident.end)
            for incident in self._incidents.get(service, [])
        )
        return (INCIDENT_RATIO if raised else _BASE_RATIO) + drift

    def instant(self, expr: str, at: float) -> list[dict[str, Any]]:
        query = parse(expr)
        result = []
        for service, labels in self._series():
            value = self.value(service, at)
            if query.selects(labels) and query.keeps(value):
                result.append({"metric": labels, "value": [at, _sample(value)]})
        return result

    def range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        query = parse(expr)
        if step <= 0:
            raise BadQuery("zero or negative query resolution step widths are not accepted")
        if end < start:
            raise BadQuery("end timestamp must not be before start time")
        if (end - start) / step > MAX_POINTS:
            raise BadQuery(f"exceeded maximum resolution of {MAX_POINTS} points per timeseries")
        points = [start + i * step for i in range(int((end - start) / step) + 1)]
        result = []
        for service, labels in self._series():
            if not query.selects(labels):
                continue
            values = [[at, _sample(v)] for at in points if query.keeps(v := self.value(service, at))]
            if values:
                result.append({"metric": labels, "values": values})
        return result

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/v1/query", self._handle_query)
        app.router.add_route("*", "/api/v1/query_range", self._handle_query_range)
        return app

    async def _handle_query(self, request: web.Request) -> web.Response:
        params = await _params(request)
        try:
            at = _time(params.get("time"), default=self._clock())
            return _success("vector", self.instant(_expr(params), at))
        except BadQuery as problem:
            return _bad_data(str(problem))

    async def _handle_query_range(self, request: web.Request) -> web.Response:
        params = await _params(request)
        try:
            start, end = _time(params.get("start")), _time(params.get("end"))
            step = _time(params.get("step"))
            return _success("matrix", self.range(_expr(params), start, end, step))
        except BadQuery as problem:
            return _bad_data(str(problem))

    def _series(self) -> list[tuple[str, dict[str, str]]]:
        return [
            (service, {"__name__": ERROR_RATIO, "namespace": namespace, "service": service})
            for service, (namespace, _) in sorted(self.services.items())
        ]

    def _notice_fixes(self) -> None:
        now = self._clock()
        for service, incidents in self._incidents.items():
            ongoing = next((i for i in incidents if i.end is None), None)
            if ongoing is not None and self._generation_of(*self.services[service]) != ongoing.generation:
                ongoing.end = now

    def _ongoing(self, service: str) -> Incident | None:
        self._notice_fixes()
        return next((i for i in self._incidents.get(service, []) if i.end is None), None)

    def _known(self, service: str) -> tuple[str, str]:
        if service not in self.services:
            raise LookupError(f"{service!r} is not a demo service ({', '.join(sorted(self.services))})")
        return self.services[service]


def _matchers(text: str) -> tuple[tuple[str, str, str], ...]:
    matchers = []
    position = 0
    while position < len(text.strip()):
        found = _MATCHER.match(text, position)
        if found is None:
            raise BadQuery(
                f"cannot read the label matchers {{{text}}}; the playground understands {SUPPORTED}"
            )
        label, op, wanted = found.groups()
        if op in ("=~", "!~"):
            try:
                re.compile(wanted)
            except re.error as exc:
                raise BadQuery(f"invalid regular expression {wanted!r}: {exc}") from None
        matchers.append((label, op, wanted.replace('\\"', '"')))
        position = found.end()
    return tuple(matchers)


def _phase(service: str) -> float:
    return zlib.crc32(service.encode()) % 628 / 100


def _sample(value: float) -> str:
    return f"{value:.6g}"


async def _params(request: web.Request) -> dict[str, str]:
    params = dict(request.query)
    if request.method == "POST":
        params.update((k, v) for k, v in (await request.post()).items() if isinstance(v, str))
    return params


def _expr(params: Mapping[str, str]) -> str:
    expr = params.get("query", "")
    if not expr:
        raise BadQuery('invalid parameter "query": query is empty')
    return expr


def _time(value: str | None, *, default: float | None = None) -> float:
    if value is None or value == "":
        if default is None:
            raise BadQuery("a start, end and step are required")
        return default
    try:
        number = float(value)
    except ValueError:
        raise BadQuery(f"cannot parse {value!r} to a valid timestamp or duration") from None
    if not math.isfinite(number):
        raise BadQuery(f"cannot parse {value!r} to a valid timestamp or duration")
    return number


def _success(kind: str, result: list[dict[str, Any]]) -> web.Response:
    return web.json_response({"status": "success", "data": {"resultType": kind, "result": result}})


def _bad_data(problem: str) -> web.Response:
    return web.json_response({"status": "error", "errorType": "bad_data", "error": problem}, status=400)
