"""The playground's page server without a browser: the whole flow through its JSON API against the real
bot, the stand-ins and the event stream; and the requests it refuses."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
import pytest

from blocks import ids
from bot.playground import demo
from bot.playground.prometheus import INCIDENT_RATIO
from bot.playground.slack.state import ALICE, BOB, BOT_USER_ID, OPS_CHANNEL
from bot.playground.stage import Playground
from tests.integration.playground.conftest import PageClient

SCALE = "/carapulse scale checkout to 5 in shop"


def channel(state: dict[str, Any]) -> list[dict[str, Any]]:
    return list(state["messages"][OPS_CHANNEL])


def card(state: dict[str, Any], plan_id: int = 1) -> dict[str, Any] | None:
    return next((m for m in channel(state) if m["text"].startswith(f"Plan #{plan_id}:")), None)


def replies(state: dict[str, Any], parent: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in channel(state) if m.get("thread_ts") == parent["ts"] and m["ts"] != parent["ts"]]


def button_value(message: dict[str, Any], action_id: str) -> str:
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button")


async def requested_card(page: PageClient) -> dict[str, Any]:
    assert await page.post("/api/say", {"user": ALICE, "channel": OPS_CHANNEL, "text": SCALE}) == (
        200,
        {"ok": True},
    )
    state = await page.wait_for_state(ALICE, card)
    found = card(state)
    assert found is not None
    return found


async def click(page: PageClient, user: str, message: dict[str, Any], action_id: str) -> None:
    body = {
        "user": user,
        "where": "message",
        "channel": OPS_CHANNEL,
        "message_ts": message["ts"],
        "action_id": action_id,
        "value": button_value(message, action_id),
    }
    assert await page.post("/api/click", body) == (200, {"ok": True})


async def test_a_plan_requested_on_the_page_is_approved_by_someone_else_and_succeeds(
    page: PageClient, playground: Playground, caplog: pytest.LogCaptureFixture
) -> None:
    plan = await requested_card(page)
    assert "Awaiting approval" in json.dumps(plan["blocks"])

    await click(page, ALICE, plan, ids.PLAN_APPROVE)
    refused = await page.wait_for_state(ALICE, lambda s: s["ephemerals"])
    assert "you requested this plan" in refused["ephemerals"][0]["text"]
    assert (await page.state(BOB))["ephemerals"] == []

    await click(page, BOB, plan, ids.PLAN_APPROVE)
    done = await page.wait_for_state(
        BOB, lambda s: replies(s, plan) and "Succeeded" in json.dumps(card(s)), 60
    )
    assert playground.kube.deployment("shop", "checkout")["spec"]["replicas"] == 5
    assert "succeeded" in replies(done, plan)[-1]["text"]
    assert "5xx ratio &lt; 0.05 held" in json.dumps(card(done)), "the demo Prometheus answered the check"
    assert "refused a Slack request" not in caplog.text


async def test_the_event_stream_sends_the_state_at_once_and_again_after_each_change(
    page: PageClient, playground: Playground
) -> None:
    async with page.session.get(f"{playground.url}/api/events", params={"user": ALICE}) as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        first = await next_state(stream)
        assert first["you"] == ALICE
        assert channel(first) == []

        await page.post("/api/say", {"user": ALICE, "channel": OPS_CHANNEL, "text": SCALE})
        later = first
        while card(later) is None:
            later = await next_state(stream)
    assert later["version"] > first["version"]


async def next_state(stream: aiohttp.ClientResponse) -> dict[str, Any]:
    event = ""
    async for line in stream.content:
        text = line.decode().rstrip("\n")
        if text.startswith("event: "):
            event = text.removeprefix("event: ")
        elif text.startswith("data: ") and event == "state":
            return dict(json.loads(text.removeprefix("data: ")))
    raise AssertionError("the stream ended")


async def test_a_modal_opened_by_a_click_is_the_clickers_and_its_submission_reaches_the_bot(
    page: PageClient,
) -> None:
    plan = await requested_card(page)
    await click(page, BOB, plan, ids.PLAN_REJECT)
    state = await page.wait_for_state(BOB, lambda s: s["modals"])
    modal = state["modals"][0]
    assert modal["callback_id"] == ids.REJECT_MODAL
    assert (await page.state(ALICE))["modals"] == []

    blank = {ids.REASON_BLOCK: {ids.REASON_INPUT: {"type": "plain_text_input", "value": " "}}}
    status, answer = await page.post("/api/submit", {"user": BOB, "view_id": modal["id"], "values": blank})
    assert status == 200
    assert answer["closed"] is False
    assert ids.REASON_BLOCK in answer["errors"]

    reason = {
        ids.REASON_BLOCK: {ids.REASON_INPUT: {"type": "plain_text_input", "value": "not in peak hours"}}
    }
    status, answer = await page.post("/api/submit", {"user": BOB, "view_id": modal["id"], "values": reason})
    assert (status, answer) == (200, {"closed": True, "errors": {}})
    assert (await page.state(BOB))["modals"] == []
    rejected = await page.wait_for_state(BOB, lambda s: "not in peak hours" in json.dumps(card(s)))
    assert "Rejected" in json.dumps(card(rejected))


async def test_a_closed_modal_is_gone_and_an_ephemeral_message_can_be_dismissed(page: PageClient) -> None:
    plan = await requested_card(page)
    await click(page, BOB, plan, ids.PLAN_REJECT)
    modal = (await page.wait_for_state(BOB, lambda s: s["modals"]))["modals"][0]
    assert await page.post("/api/close", {"user": BOB, "view_id": modal["id"]}) == (200, {"ok": True})
    assert (await page.state(BOB))["modals"] == []

    await page.post("/api/say", {"user": ALICE, "channel": OPS_CHANNEL, "text": "/carapulse help"})
    helped = await page.wait_for_state(ALICE, lambda s: s["ephemerals"])
    whisper = helped["ephemerals"][0]
    assert whisper["blocks"], "the help answer carries its blocks"
    assert await page.post("/api/dismiss", {"user": ALICE, "ephemeral": whisper["id"]}) == (200, {"ok": True})
    assert (await page.state(ALICE))["ephemerals"] == []
    assert (await page.post("/api/dismiss", {"user": BOB, "ephemeral": whisper["id"]}))[0] == 400


async def test_a_mention_is_an_app_mention_event_and_answered_in_its_thread(
    page: PageClient, playground: Playground
) -> None:
    text = "@carapulse scale cart to 3 in shop"
    await page.post("/api/say", {"user": ALICE, "channel": OPS_CHANNEL, "text": text})
    mention = next(m for m in channel(await page.state(ALICE)) if m["user"] == ALICE)
    assert mention["text"] == f"<@{BOT_USER_ID}> scale cart to 3 in shop"

    answered = await page.wait_for_state(ALICE, lambda s: replies(s, mention))
    reply = replies(answered, mention)[0]
    assert reply["user"] == BOT_USER_ID
    assert "cart" in reply["text"]


async def test_the_home_tab_is_published_for_the_person_who_opened_it(page: PageClient) -> None:
    assert await page.post("/api/home", {"user": BOB}) == (200, {"ok": True})
    state = await page.wait_for_state(BOB, lambda s: s["home"])
    assert state["home"]["type"] == "home"
    assert (await page.state(ALICE))["home"] is None


async def test_firing_an_alert_opens_an_incident_with_a_chart_of_the_raised_series(
    page: PageClient, playground: Playground
) -> None:
    status, answer = await page.post("/api/alert", {"user": BOB, "service": "payments"})
    assert status == 200
    assert answer["status"] == 200
    assert playground.prometheus.value("payments", time.time()) >= INCIDENT_RATIO - 0.01

    state = await page.wait_for_state(
        BOB, lambda s: any(f["image"] for m in channel(s) for f in m.get("files", [])), timeout=60
    )
    chart = next(f for m in channel(state) for f in m.get("files", []))
    async with page.session.get(f"{playground.url}/files/{chart['id']}") as response:
        assert response.status == 200
        assert response.content_type == "image/png"
        assert (await response.read()).startswith(b"\x89PNG")
    assert any(m["text"].startswith("Incident #1") for m in channel(state))

    status, answer = await page.post("/api/alert", {"user": BOB, "service": "payments", "status": "resolved"})
    assert (status, answer["status"]) == (200, 200)
    assert playground.prometheus.value("payments", time.time()) < 0.05


@pytest.mark.parametrize(
    ("path", "body", "status", "reason"),
    [
        (
            "/api/say",
            {"user": "U0NOBODY00", "channel": OPS_CHANNEL, "text": "hi"},
            400,
            "user must be one of",
        ),
        ("/api/say", {"user": ALICE, "channel": "C0NOSUCH00", "text": "hi"}, 400, "no channel C0NOSUCH00"),
        ("/api/say", {"user": ALICE, "channel": OPS_CHANNEL}, 400, "text: Field required"),
        ("/api/say", {"user": ALICE, "channel": OPS_CHANNEL, "text": "hi", "extra": 1}, 400, "extra"),
        (
            "/api/say",
            {"user": ALICE, "channel": OPS_CHANNEL, "text": "hi", "thread_ts": "1.1"},
            400,
            "no message",
        ),
        (
            "/api/click",
            {"user": BOB, "where": "message", "action_id": "plan_approve"},
            400,
            "channel is required",
        ),
        (
            "/api/click",
            {"user": BOB, "where": "message", "channel": OPS_CHANNEL, "message_ts": "1.2", "action_id": "x"},
            400,
            "has no element",
        ),
        ("/api/click", {"user": BOB, "where": "home", "action_id": "x"}, 400, "Home tab"),
        ("/api/click", {"user": BOB, "where": "ephemeral", "ephemeral": "E9", "action_id": "x"}, 400, "E9"),
        ("/api/submit", {"user": BOB, "view_id": "V0NOSUCH", "values": {}}, 400, "no open modal"),
        ("/api/close", {"user": BOB, "view_id": "V0NOSUCH"}, 400, "no open modal"),
        ("/api/alert", {"user": BOB, "service": "nosuch"}, 400, "not a demo service"),
        ("/api/alert", {"user": BOB, "service": "cart", "status": "pending"}, 400, "status"),
    ],
)
async def test_gestures_no_slack_client_could_make_are_refused_with_the_reason(
    page: PageClient, path: str, body: dict[str, Any], status: int, reason: str
) -> None:
    answered, text = await page.post(path, body)
    assert answered == status
    assert reason in json.dumps(text)


async def test_an_unknown_slash_command_is_told_to_its_sender_and_not_sent(
    page: PageClient, playground: Playground
) -> None:
    await page.post("/api/say", {"user": ALICE, "channel": OPS_CHANNEL, "text": "/deploy everything"})
    whispers = (await page.state(ALICE))["ephemerals"]
    assert "/deploy is not a valid command" in whispers[0]["text"]
    assert playground.slack.calls_to("chat.postMessage") == []


async def test_requests_from_another_host_or_not_in_json_are_refused(
    page: PageClient, playground: Playground
) -> None:
    status, text = await page.post("/api/home", {"user": ALICE}, Host="evil.example:80")
    assert status == 421
    assert "evil.example" in text
    async with page.session.post(f"{playground.url}/api/home", data={"user": ALICE}) as response:
        assert response.status == 415
    async with page.session.get(f"{playground.url}/api/state", params={"user": "U0NOBODY00"}) as response:
        assert response.status == 400


async def test_the_page_and_its_scripts_are_served_with_a_policy_that_loads_nothing_from_elsewhere(
    page: PageClient, playground: Playground
) -> None:
    async with page.session.get(playground.url + "/") as response:
        html = await response.text()
        policy = response.headers["Content-Security-Policy"]
    assert "local simulation" in html
    assert "default-src 'self'" in policy
    for script in ("app.js", "blocks.js", "mrkdwn.js", "style.css"):
        async with page.session.get(f"{playground.url}/static/{script}") as response:
            assert response.status == 200


async def test_the_bot_runs_with_the_playgrounds_settings_only(
    playground: Playground, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = playground.carapulse.settings
    assert settings.slack_api_url == playground.slack.api_url
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.roles == {p.id: list(p.roles) for p in demo.PEOPLE}
    monkeypatch.setenv("SLACK_API_URL", "https://slack.com/api/")
    monkeypatch.setenv("PLANNER", "openai")
    values = demo.settings_values(
        slack_api_url="http://127.0.0.1:1/api/",
        database_url="sqlite+aiosqlite:///unused.db",
        keys=demo.Secrets.fresh(),
    )
    rebuilt = demo.PlaygroundSettings(**values)
    assert (rebuilt.slack_api_url, rebuilt.planner) == ("http://127.0.0.1:1/api/", "rules")
