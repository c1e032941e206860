"""A Thanos Query stand-in (Thanos cannot run here) that answers the Prometheus HTTP API v1 paths the
prometheus tool calls, so tests can see which Thanos parameters each call sends.

Answers use Prometheus's envelope. With `store_down` set, a query either fails the way Thanos fails
it when partial responses are refused (422, errorType "execution") or, with `partial_response=true`,
succeeds with a warning naming the missing store.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.http_server import FakeHttpServer

STORE_ERROR = (
    'receive series from Addr: 10.0.3.7:10901 LabelSets: {cluster="eu-1"}: '
    "rpc error: code = Unavailable desc = connection refused"
)
UP_SERIES = {"__name__": "up", "instance": "10.0.1.4:9090", "job": "prometheus"}


class FakeThanosQuery(FakeHttpServer):
    def __init__(self, *, store_down: bool = False) -> None:
        super().__init__()
        self.store_down = store_down

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v1/query", self._query),
            web.get("/api/v1/query_range", self._query_range),
            web.get("/api/v1/series", self._series),
            web.get("/api/v1/rules", self._rules),
            web.get("/api/v1/alerts", self._alerts),
            web.get("/api/v1/targets", self._targets),
            web.get("/api/v1/query_exemplars", self._exemplars),
        ]

    async def _query(self, request: web.Request) -> web.StreamResponse:
        at = float(request.query.get("time", "1795665658.743"))
        vector = [{"metric": UP_SERIES, "value": [at, "1"]}]
        return self._answer(request, {"resultType": "vector", "result": vector})

    async def _query_range(self, request: web.Request) -> web.StreamResponse:
        start, step = float(request.query["start"]), float(request.query["step"])
        values = [[start + i * step, "1"] for i in range(3)]
        return self._answer(
            request, {"resultType": "matrix", "result": [{"metric": UP_SERIES, "values": values}]}
        )

    async def _series(self, request: web.Request) -> web.StreamResponse:
        return self._answer(request, [UP_SERIES])

    async def _rules(self, request: web.Request) -> web.StreamResponse:
        return self._answer(request, {"groups": []})

    async def _alerts(self, request: web.Request) -> web.StreamResponse:
        return self._answer(request, {"alerts": []})

    async def _targets(self, request: web.Request) -> web.StreamResponse:
        return self._answer(request, {"activeTargets": [], "droppedTargets": []})

    async def _exemplars(self, request: web.Request) -> web.StreamResponse:
        return self._answer(request, [])

    def _answer(self, request: web.Request, data: Any) -> web.StreamResponse:
        if not self.store_down:
            return web.json_response({"status": "success", "data": data})
        if request.query.get("partial_response") == "true":
            return web.json_response({"status": "success", "data": data, "warnings": [STORE_ERROR]})
        error = {"status": "error", "errorType": "execution", "error": STORE_ERROR}
        return web.json_response(error, status=422)
