"""The baseline for bench/ack_latency.py: a bare Bolt AsyncApp that only acks `/carapulse`.

Run as `python bench/bare_bolt.py PORT SIGNING_SECRET SLACK_API_URL`.
"""

from __future__ import annotations

import sys
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def main(port: int, secret: str, api_url: str) -> None:
    bolt = AsyncApp(signing_secret=secret, client=AsyncWebClient(token="xoxb-test", base_url=api_url))

    @bolt.command("/carapulse")
    async def only_ack(ack: Any) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    print("listening on port", port, file=sys.stderr, flush=True)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3])
