"""The fake's Socket Mode end, against slack_sdk's own aiohttp Socket Mode client: tickets from
apps.connections.open, hello, envelopes and their acks, refresh and reconnect, and what Slack
would refuse."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.playground.slack.socket_driver import SocketDriver
from bot.playground.slack.socket_mode import NoConnection, NotAcknowledged
from bot.playground.slack.web_api import DEFAULT_APP_TOKEN, DEFAULT_TOKEN, FakeSlack


@pytest.fixture
async def app(slack: FakeSlack) -> AsyncIterator[tuple[SocketModeClient, list[SocketModeRequest]]]:
    """slack_sdk's client, acking each envelope with {"seen": <its type>}."""
    received: list[SocketModeRequest] = []

    async def ack(client: SocketModeClient, request: SocketModeRequest) -> None:
        received.append(request)
        await client.send_socket_mode_response(
            SocketModeResponse(envelope_id=request.envelope_id, payload={"seen": request.type})
        )

    client = SocketModeClient(
        app_token=DEFAULT_APP_TOKEN, web_client=AsyncWebClient(base_url=slack.api_url), ping_interval=0.5
    )
    client.socket_mode_request_listeners.append(ack)
    await client.connect()
    await slack.socket_mode.wait_connected()
    yield client, received
    await client.close()


async def test_the_url_is_handed_out_for_the_app_token_only(slack: FakeSlack) -> None:
    web = AsyncWebClient(base_url=slack.api_url)
    opened = await web.apps_connections_open(app_token=DEFAULT_APP_TOKEN)
    assert opened["url"].startswith(slack.base_url.replace("http", "ws", 1) + "/link/?ticket=")
    for token, error in ((DEFAULT_TOKEN, "not_allowed_token_type"), ("xapp-1-unknown", "invalid_auth")):
        with pytest.raises(SlackApiError) as refused:
            await web.apps_connections_open(app_token=token)
        assert refused.value.response["error"] == error
    with pytest.raises(SlackApiError) as refused:
        await AsyncWebClient(token=DEFAULT_APP_TOKEN, base_url=slack.api_url).auth_test()
    assert refused.value.response["error"] == "not_allowed_token_type"


async def test_a_connection_is_greeted_with_hello(slack: FakeSlack) -> None:
    url = (await AsyncWebClient(base_url=slack.api_url).apps_connections_open(app_token=DEFAULT_APP_TOKEN))[
        "url"
    ]
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as socket:
        hello = await socket.receive_json(timeout=5)
    assert hello["type"] == "hello"
    assert hello["num_connections"] == 1
    assert hello["connection_info"] == {"app_id": "A0123CARAPL"}


async def test_each_kind_of_envelope_is_delivered_and_acked(
    slack: FakeSlack, app: tuple[SocketModeClient, list[SocketModeRequest]]
) -> None:
    _, received = app
    driver = SocketDriver(slack)

    assert await driver.slash_command("help") == {"seen": "slash_commands"}
    assert await driver.block_action("plan_approve", "1") == {"seen": "interactive"}
    assert await driver.event(
        {"type": "app_mention", "user": "U0123ALICE1", "text": "hi", "channel": "C0123OPSCHN"}
    )

    assert [r.type for r in received] == ["slash_commands", "interactive", "events_api"]
    command, click, event = (r.payload for r in received)
    assert (command["command"], command["text"]) == ("/carapulse", "help")
    assert click["type"] == "block_actions"
    assert event["type"] == "event_callback"
    assert received[0].accepts_response_payload is True
    assert received[1].accepts_response_payload is False
    assert [ack.kind for ack in slack.socket_mode.acks] == ["slash_commands", "interactive", "events_api"]


async def test_refresh_makes_the_client_reconnect_through_apps_connections_open(
    slack: FakeSlack, app: tuple[SocketModeClient, list[SocketModeRequest]]
) -> None:
    await slack.socket_mode.refresh()

    assert slack.socket_mode.connections_opened == 2
    assert slack.socket_mode.open_connections == 1
    assert len(slack.calls_to("apps.connections.open")) == 2
    assert await SocketDriver(slack).slash_command("help") == {"seen": "slash_commands"}


async def test_without_a_connection_nothing_can_be_delivered(slack: FakeSlack) -> None:
    with pytest.raises(NoConnection):
        await SocketDriver(slack).slash_command("help")
    with pytest.raises(ValueError, match="not an envelope type"):
        await slack.socket_mode.deliver("block_actions", {})


async def test_an_unacked_envelope_fails_and_stray_acks_are_violations(slack: FakeSlack) -> None:
    url = (await AsyncWebClient(base_url=slack.api_url).apps_connections_open(app_token=DEFAULT_APP_TOKEN))[
        "url"
    ]
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as socket:
        await socket.receive_json(timeout=5)
        with pytest.raises(NotAcknowledged):
            await SocketDriver(slack).slash_command("help")
        envelope = await socket.receive_json(timeout=5)
        await socket.send_str(json.dumps({"envelope_id": envelope["envelope_id"]}))
        await socket.send_str("not json")
        await slack.wait_until(lambda: len(slack.violations) >= 2)
    assert "an ack for no envelope" in slack.violations[0]
    assert "not JSON" in slack.violations[1]
    slack.violations.clear()


@pytest.mark.parametrize("reuse", [False, True], ids=["made-up", "used"])
async def test_a_ticket_not_handed_out_or_used_is_refused(slack: FakeSlack, reuse: bool) -> None:
    url = (await AsyncWebClient(base_url=slack.api_url).apps_connections_open(app_token=DEFAULT_APP_TOKEN))[
        "url"
    ]
    async with aiohttp.ClientSession() as session:
        if reuse:
            async with session.ws_connect(url) as first:
                await first.receive_json(timeout=5)
        else:
            url = url.split("ticket=")[0] + "ticket=made-up"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url)
    assert refused.value.status == 401
    assert "ticket" in slack.violations[0]
    slack.violations.clear()


async def test_the_wait_for_a_connection_gives_up(slack: FakeSlack) -> None:
    with pytest.raises(TimeoutError):
        await slack.socket_mode.wait_connected(timeout=0.1)
