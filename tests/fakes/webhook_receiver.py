"""An HTTP endpoint on loopback that receives Carapulse's notification webhook: it keeps each body's
exact bytes (to check the signature over them) and can be told to fail the next deliveries."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from tests.fakes.http_server import FakeHttpServer

PATH = "/hooks/carapulse"


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes


class WebhookReceiver(FakeHttpServer):
    def __init__(self) -> None:
        super().__init__()
        self.deliveries: list[Delivery] = []
        self._arrived = asyncio.Condition()

    @property
    def hook_url(self) -> str:
        return self.url + PATH

    def routes(self) -> list[web.RouteDef]:
        return [web.post(PATH, self._receive)]

    async def received(self, count: int, timeout: float = 15) -> list[Delivery]:  # noqa: ASYNC109
        """Wait until `count` deliveries were accepted (answered 200)."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.deliveries) >= count)
        return self.deliveries

    async def _receive(self, request: web.Request) -> web.StreamResponse:
        delivery = Delivery(dict(request.headers), await request.read())
        async with self._arrived:
            self.deliveries.append(delivery)
            self._arrived.notify_all()
        return web.json_response({"ok": True})
