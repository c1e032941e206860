"""Thousands of malformed but correctly signed requests, thrown at the real HTTP app: none gets a 5xx,
none stores a plan or posts a message, and the bot still plans afterwards.

One bot serves every example. Hypothesis runs in a worker thread and hands each request to the
test's event loop, where the bot keeps running between examples; so each example's checks also
see the state every earlier example left behind, which is the point.
"""

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blocks import ids
from bot.db.models import Plan
from bot.playground.slack.bodies import (
    FORM,
    JSON,
    form_body,
    interactive_body,
    json_body,
    paths,
    with_value,
    without,
)
from bot.playground.slack.specs import load_spec
from tests.harness import RunningBot

EXAMPLES = 800
REQUIRED_COMMAND_FIELDS = ("command", "team_id", "user_id", "channel_id", "trigger_id", "response_url")
EDGE_STATUSES = frozenset({400, 401, 413, 415})
T = TypeVar("T")


@dataclass(frozen=True)
class Malformed:
    body: bytes
    content_type: str | None
    # Slack never sends anything like it, so it must be refused (4xx); otherwise only "no 5xx" holds.
    refused: bool


@dataclass(frozen=True)
class Base:
    """A request Slack does send, as data; how it goes on the wire; the paths inside it that Bolt
    or a listener reads, which edits favour."""

    value: dict[str, Any]
    encode: Callable[[Any], bytes]
    content_type: str
    focus: tuple[str, ...]


ACTOR = ("user", "user.id", "user.team_id", "team", "team.id", "enterprise", "response_url", "trigger_id")
CLICK = (*ACTOR, "actions", "actions.0", "actions.0.action_id", "actions.0.value", "channel", "channel.id")
REASON = f"view.state.values.{ids.REASON_BLOCK}"
SUBMIT = (*ACTOR, "view", "view.type", "view.callback_id", "view.private_metadata", "view.state")
EVENT = (
    "event",
    "event.type",
    "event.user",
    "event.channel",
    "authorizations",
    "authorizations.0",
    "team_id",
)


def bases(bot: RunningBot) -> list[Base]:
    driver = bot.driver
    reason = {ids.REASON_BLOCK: {ids.REASON_INPUT: {"type": "plain_text_input", "value": "freeze"}}}
    card = '{"plan_id": 42, "channel_id": "C0123OPSCHN"}'
    submit = (
        *SUBMIT,
        "view.state.values",
        REASON,
        f"{REASON}.{ids.REASON_INPUT}",
        f"{REASON}.{ids.REASON_INPUT}.value",
    )
    events = [
        driver.event_envelope(load_spec(f"payloads/{name}.json")["event"])
        for name in ("app_mention", "app_home_opened", "message_in_thread")
    ]
    return [
        Base(driver.slash_command_fields("help"), form_body, FORM, REQUIRED_COMMAND_FIELDS),
        Base(driver.block_action_payload(ids.PLAN_APPROVE, "42"), interactive_body, FORM, CLICK),
        Base(
            driver.block_action_payload(ids.PLAN_REJECT, "42"), interactive_body, FORM, (*CLICK, "container")
        ),
        Base(load_spec("payloads/block_actions_home.json"), interactive_body, FORM, (*CLICK, "container")),
        Base(driver.view_submission_payload(ids.REJECT_MODAL, reason, card), interactive_body, FORM, submit),
        *(Base(envelope, json_body, JSON, EVENT) for envelope in events),
        Base(load_spec("payloads/url_verification.json"), json_body, JSON, ("type", "challenge")),
    ]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
WRONG_CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            *(None, "text/plain", "application/octet-stream", "multipart/form-data", "Application/JSON"),
            *(f"{JSON}; charset=latin-1", f"{FORM}; charset=utf-16", f"{FORM} ;charset=utf-8"),
        ]
    ),
    # The server strips the whitespace around a header value.
    HEADER_TEXT.filter(lambda text: text.strip().split(";")[0] not in (FORM, JSON)),
)
INVALID_UTF8 = st.sampled_from([b"\xff", b"\xc3", b"\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"])


def malformed_requests(known: list[Base]) -> st.SearchStrategy[Malformed]:
    base = st.sampled_from(known)
    return st.one_of(
        st.builds(
            Malformed,
            st.binary(max_size=400),
            WRONG_CONTENT_TYPES | st.sampled_from([FORM, JSON]),
            st.just(True),
        ),
        st.builds(lambda value: Malformed(json_body(value), JSON, refused=False), JSON_VALUES),
        st.builds(lambda value: Malformed(interactive_body(value), FORM, refused=False), JSON_VALUES),
        _edited(base),
        _truncated(base),
        _with_invalid_utf8(base),
        st.builds(
            lambda b, content_type: Malformed(b.encode(b.value), content_type, True),
            base,
            WRONG_CONTENT_TYPES,
        ),
        st.builds(
            lambda b: Malformed(b.encode(b.value), JSON if b.content_type == FORM else FORM, True), base
        ),
        _broken_command(known[0]),
    )


@st.composite
def _edited(draw: st.DrawFn, base: st.SearchStrategy[Base]) -> Malformed:
    """A field removed or replaced by any JSON value (any string, in a form); may still be valid."""
    chosen = draw(base)
    anywhere = [p for p in paths(chosen.value) if p != "text"]
    path = draw(st.sampled_from(anywhere) | st.sampled_from([p for p in chosen.focus if p in anywhere]))
    if draw(st.booleans()):
        edited = without(chosen.value, path)
    else:
        edited = with_value(
            chosen.value, path, draw(st.text() if chosen.encode is form_body else JSON_VALUES)
        )
    return Malformed(chosen.encode(edited), chosen.content_type, refused=False)


@st.composite
def _truncated(draw: st.DrawFn, base: st.SearchStrategy[Base]) -> Malformed:
    """Cut short: a JSON object loses its closing brace, so only a form can still be whole."""
    chosen = draw(base)
    body = chosen.encode(chosen.value)
    return Malformed(
        body[: draw(st.integers(0, len(body) - 1))], chosen.content_type, chosen.encode is not form_body
    )


@st.composite
def _with_invalid_utf8(draw: st.DrawFn, base: st.SearchStrategy[Base]) -> Malformed:
    chosen = draw(base)
    body = chosen.encode(chosen.value)
    assert body.isascii()  # so the inserted bytes cannot complete a character
    at = draw(st.integers(0, len(body)))
    return Malformed(body[:at] + draw(INVALID_UTF8) + body[at:], chosen.content_type, refused=True)


@st.composite
def _broken_command(draw: st.DrawFn, command: Base) -> Malformed:
    field = draw(st.sampled_from(REQUIRED_COMMAND_FIELDS))
    fields = without(command.value, field) if draw(st.booleans()) else {**command.value, field: ""}
    return Malformed(form_body(fields), FORM, refused=True)


async def test_malformed_signed_requests_get_no_5xx_and_change_nothing(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    loop = asyncio.get_running_loop()

    def on_loop(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=30)

    async def fresh_bases() -> list[Base]:
        return bases(bot)

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        # Fresh trigger_ids and response_urls each time (Slack takes 5 posts per response_url),
        # built on the loop that owns the fake.
        request = data.draw(malformed_requests(on_loop(fresh_bases())), label="request")
        logged = len(caplog.records)
        response = on_loop(bot.driver.raw_request(request.body, request.content_type).send())
        on_loop(bot.carapulse.runtime.supervisor.drain())

        assert response.status < 500, response
        if request.refused:
            assert 400 <= response.status < 500, response
        new = caplog.records[logged:]
        edge_lines = [r for r in new if r.name == "bot.http"]
        assert len(edge_lines) == (response.status in EDGE_STATUSES), [r.getMessage() for r in new]
        assert not [r for r in new if r.levelno >= logging.ERROR or r.exc_info], [r.getMessage() for r in new]
        assert on_loop(bot.count(Plan)) == 0
        assert bot.slack.calls_to("chat.postMessage") == []

    await asyncio.to_thread(check)

    response = await bot.driver.slash_command("scale checkout to 5 in shop")
    assert response.status == 200
    await bot.card_text(1, "Awaiting approval")
