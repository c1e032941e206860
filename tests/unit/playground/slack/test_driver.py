import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.say.async_say import AsyncSay
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.playground.slack.bodies import FORM, form_body
from bot.playground.slack.driver import SlackDriver, signature
from bot.playground.slack.web_api import FakeSlack

SECRET = "test-signing-secret"
OPS = "C0123OPSCHN"
PLAN_CARD = [
    {"type": "section", "block_id": "plan_summary", "text": {"type": "mrkdwn", "text": "*Plan 42*"}},
    {
        "type": "actions",
        "block_id": "plan_actions",
        "elements": [
            {
                "type": "button",
                "action_id": "plan_approve",
                "value": "42",
                "style": "primary",
                "text": {"type": "plain_text", "text": "Approve"},
            }
        ],
    },
]
REJECT_MODAL = {
    "type": "modal",
    "callback_id": "plan_reject_modal",
    "private_metadata": '{"plan_id": "42"}',
    "title": {"type": "plain_text", "text": "Reject plan"},
    "submit": {"type": "plain_text", "text": "Reject"},
    "blocks": [
        {
            "type": "input",
            "block_id": "reason_block",
            "label": {"type": "plain_text", "text": "Reason"},
            "element": {"type": "plain_text_input", "action_id": "reason_input"},
        }
    ],
}


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=slack.api_url)


@pytest.fixture
def seen() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def bolt(client: AsyncWebClient, seen: list[dict[str, Any]]) -> AsyncApp:
    app = AsyncApp(signing_secret=SECRET, client=client)

    @app.command("/carapulse")
    async def handle_command(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        seen.append(body)
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=REJECT_MODAL)
        await respond(text=f"planning: {body['text']}")

    @app.action("plan_approve")
    async def handle_plan_approve(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        seen.append(body)
        await ack()
        container = body["container"]
        await client.chat_update(channel=container["channel_id"], ts=container["message_ts"], text="approved")

    @app.view("plan_reject_modal")
    async def handle_plan_reject(ack: AsyncAck, body: dict[str, Any]) -> None:
        seen.append(body)
        await ack()

    @app.event("app_mention")
    async def handle_mention(body: dict[str, Any], request: AsyncBoltRequest, say: AsyncSay) -> None:
        seen.append({**body, "retry_num": request.headers.get("x-slack-retry-num")})
        await say(text="on it", thread_ts=body["event"]["ts"])

    return app


@pytest.fixture
async def driver(bolt: AsyncApp, slack: FakeSlack) -> AsyncIterator[SlackDriver]:
    async def dispatch(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", dispatch)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    yield SlackDriver(f"http://127.0.0.1:{sock.getsockname()[1]}", SECRET, slack)
    await runner.cleanup()


async def test_signed_slash_command_reaches_the_listener(
    driver: SlackDriver, slack: FakeSlack, seen: list[dict[str, Any]]
) -> None:
    answer = await driver.slash_command("scale checkout to 5 in prod")
    await slack.wait_until(lambda: slack.responses)

    assert answer.status == 200
    assert seen[0]["text"] == "scale checkout to 5 in prod"
    assert seen[0]["user_id"] == "U0123ALICE1"
    assert slack.responses[0].body["text"] == "planning: scale checkout to 5 in prod"
    assert slack.calls_to("views.open")[0].ok
    assert slack.violations == []


def test_signature_is_the_one_slack_sdk_computes_for_a_utf8_body() -> None:
    body = "text=r%C3%A9sum%C3%A9 café&command=/carapulse"

    expected = SignatureVerifier(SECRET).generate_signature(timestamp="1767225600", body=body)

    assert signature(SECRET, "1767225600", body.encode()) == expected


async def test_raw_request_is_sent_byte_for_byte_and_passes_bolts_check(
    driver: SlackDriver, slack: FakeSlack, seen: list[dict[str, Any]]
) -> None:
    fields = driver.slash_command_fields("scale checkout to 5 in prod")

    answer = await driver.raw_request(form_body(fields), FORM).send()

    assert answer.status == 200
    assert seen[0]["text"] == "scale checkout to 5 in prod"


@pytest.mark.parametrize(
    "send_options",
    [{"secret": "forged-secret"}, {"timestamp": int(time.time()) - 600}],
    ids=["forged", "stale"],
)
async def test_bad_signature_is_refused_with_401(
    driver: SlackDriver, seen: list[dict[str, Any]], send_options: dict[str, Any]
) -> None:
    answer = await driver.slash_command_request("help").send(**send_options)

    assert answer.status == 401
    assert answer.json() == {"error": "invalid request"}
    assert seen == []


async def test_button_click_carries_the_message_the_bot_posted(
    driver: SlackDriver, slack: FakeSlack, client: AsyncWebClient, seen: list[dict[str, Any]]
) -> None:
    posted = await client.chat_postMessage(channel=OPS, text="Plan 42", blocks=PLAN_CARD)

    answer = await driver.block_action("plan_approve", "42")
    await slack.wait_for(lambda call: call.method == "chat.update")

    assert answer.status == 200
    assert seen[0]["message"]["blocks"] == PLAN_CARD
    assert seen[0]["actions"][0] | {"action_ts": None} == {
        "action_id": "plan_approve",
        "block_id": "plan_actions",
        "value": "42",
        "style": "primary",
        "type": "button",
        "text": {"type": "plain_text", "text": "Approve"},
        "action_ts": None,
    }
    assert slack.messages[OPS][posted["ts"]]["text"] == "approved"
    assert seen[0]["response_url"].startswith(slack.base_url)


async def test_view_submission_sends_back_the_opened_modal(
    driver: SlackDriver, slack: FakeSlack, client: AsyncWebClient, seen: list[dict[str, Any]]
) -> None:
    await client.views_open(trigger_id=slack.issue_trigger_id(), view=REJECT_MODAL)
    values = {"reason_block": {"reason_input": {"type": "plain_text_input", "value": "freeze"}}}

    answer = await driver.view_submission("plan_reject_modal", values)

    assert answer.status == 200
    assert seen[0]["view"]["private_metadata"] == '{"plan_id": "42"}'
    assert seen[0]["view"]["state"]["values"] == values
    assert seen[0]["view"]["id"] in slack.views


async def test_event_redelivery_repeats_the_same_body_with_retry_headers(
    driver: SlackDriver, slack: FakeSlack, seen: list[dict[str, Any]]
) -> None:
    mention = {"type": "app_mention", "user": "U0123ALICE1", "channel": OPS, "text": "<@U0123BOTUSR> status"}
    request = driver.event_request(mention)

    first = await request.send()
    retry = await request.send(retry_num=1)
    await slack.wait_until(lambda: len(slack.calls_to("chat.postMessage")) == 2)

    assert (first.status, retry.status) == (200, 200)
    assert seen[0]["event_id"] == seen[1]["event_id"]
    assert seen[0]["event"]["ts"] == seen[1]["event"]["ts"]
    assert [body["retry_num"] for body in seen] == [None, ["1"]]
    assert slack.violations == []
