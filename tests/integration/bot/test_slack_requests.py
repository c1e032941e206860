"""Requests to /slack/events that Slack would never send get a 4xx with a short reason and one
WARNING line and leave nothing behind; the requests Slack does send still get through."""

import logging
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from blocks import ids
from bot.db.models import AuditEvent, Plan
from bot.edge import DEFAULT_MAX_REQUEST_BYTES as MAX_BODY_BYTES
from bot.playground.slack.bodies import (
    FORM,
    JSON,
    form_body,
    interactive_body,
    json_body,
    with_value,
    without,
)
from bot.playground.slack.specs import load_spec
from tests.databases import throwaway_database
from tests.harness import RunningBot, running_bot

pytestmark = pytest.mark.asyncio(loop_scope="module")

COMMAND: dict[str, str] = load_spec("payloads/slash_command.form.json")
CLICK = load_spec("payloads/block_actions.json")
SUBMIT = load_spec("payloads/view_submission.json")
MENTION = load_spec("payloads/app_mention.json")
CHALLENGE = load_spec("payloads/url_verification.json")
REASON = "view.state.values.reason_block.reason_input"


def case(name: str, body: bytes, content_type: str | None, status: int, reason: str) -> object:
    return pytest.param(body, content_type, status, reason, id=name)


def nested_authorizations(depth: int) -> dict[str, object]:
    """An event whose authorizations nest `depth` deep; slack_bolt recurses into each."""
    envelope = without(MENTION, "authorizations")
    inner = envelope
    for _ in range(depth):
        inner["authorizations"] = [{}]
        inner = inner["authorizations"][0]
    return envelope


REFUSED = [
    case("too-large", b"x" * (MAX_BODY_BYTES + 1), FORM, 413, "body is larger than 1048576 bytes"),
    case("no-content-type", form_body(COMMAND), None, 415, "send one Content-Type header"),
    case("text-plain", form_body(COMMAND), "text/plain", 415, "Content-Type must be"),
    case("multipart", form_body(COMMAND), "multipart/form-data; boundary=x", 415, "Content-Type must be"),
    case(
        "media-type-not-as-slack-sends-it",
        json_body(MENTION),
        "Application/JSON",
        415,
        "Content-Type must be",
    ),
    case("latin-1-charset", json_body(MENTION), f"{JSON}; charset=iso-8859-1", 415, "charset must be utf-8"),
    case("utf-16-charset", form_body(COMMAND), f"{FORM}; charset=utf-16", 415, "charset must be utf-8"),
    case("empty-form", b"", FORM, 400, "body is empty"),
    case("empty-json", b"", JSON, 400, "body is empty"),
    case(
        "invalid-utf8-form", b"text=\xff\xfe&" + form_body(COMMAND), FORM, 400, "body is not UTF-8 (byte 5)"
    ),
    case("invalid-utf8-json", b'{"type": "\xc3("}', JSON, 400, "body is not UTF-8"),
    case("invalid-utf8-percent-encoded", form_body(COMMAND) + b"&x=%FF", FORM, 400, "not UTF-8 once percent"),
    case("json-not-json", b"{not json", JSON, 400, "body is not valid JSON"),
    case("json-nested-too-deep", b"[" * 100_000, JSON, 400, "body is not valid JSON"),
    case("json-array", b"[]", JSON, 400, "body is not a JSON object"),
    case("json-string", b'"event_callback"', JSON, 400, "body is not a JSON object"),
    case("json-null", b"null", JSON, 400, "body is not a JSON object"),
    case("form-starting-with-brace", b"{=1", FORM, 400, "form body starts with '{'"),
    case("form-of-nothing-slack-sends", b"foo=bar", FORM, 400, "neither a slash command"),
    case(
        "form-without-command", form_body(without(COMMAND, "command")), FORM, 400, "neither a slash command"
    ),
    case(
        "command-mentioning-payload",
        form_body({**COMMAND, "text": "scale payload-api to 3 in shop"}),
        FORM,
        400,
        "has no payload field; slack_bolt reads it as empty",
    ),
    *(
        case(
            f"command-without-{field}",
            form_body(without(COMMAND, field)),
            FORM,
            400,
            f"{field}: Field required",
        )
        for field in ("team_id", "user_id", "channel_id", "trigger_id", "response_url")
    ),
    case("command-empty-user-id", form_body({**COMMAND, "user_id": ""}), FORM, 400, "user_id: String should"),
    case(
        "command-response-url-not-a-url",
        form_body({**COMMAND, "response_url": "x"}),
        FORM,
        400,
        "match pattern",
    ),
    case("payload-truncated", interactive_body(CLICK)[:-40], FORM, 400, "payload field is not valid JSON"),
    case("payload-not-json", b"payload=hello", FORM, 400, "payload field is not valid JSON"),
    case("payload-array", interactive_body([CLICK]), FORM, 400, "payload field is not a JSON object"),
    case(
        "payload-without-type", interactive_body(without(CLICK, "type")), FORM, 400, "neither a slash command"
    ),
    case(
        "payload-type-number",
        interactive_body(with_value(CLICK, "type", 5)),
        FORM,
        400,
        "type is not a string",
    ),
    *(
        case(f"click-{name}", interactive_body(payload), FORM, 400, f"block_actions: {reason}")
        for name, payload, reason in [
            ("without-actions", without(CLICK, "actions"), "actions: Field required"),
            ("no-actions", with_value(CLICK, "actions", []), "actions: List should have at least 1 item"),
            ("action-number", with_value(CLICK, "actions.0", 5), "actions.0: Input should be a valid dict"),
            (
                "without-action-id",
                without(CLICK, "actions.0.action_id"),
                "actions.0.action_id: Field required",
            ),
            (
                "value-number",
                with_value(CLICK, "actions.0.value", 42),
                "actions.0.value: Input should be a valid",
            ),
            (
                "value-null",
                with_value(CLICK, "actions.0.value", None),
                "actions.0.value: may be left out but not null",
            ),
            ("without-user", without(CLICK, "user"), "user: Field required"),
            ("user-string", with_value(CLICK, "user", "U0123BOBBY2"), "user: Input should be a valid dict"),
            ("without-user-id", without(CLICK, "user.id"), "user.id: Field required"),
            ("no-team", without(with_value(CLICK, "team", None), "user.team_id"), "input: names no team"),
            ("team-string", with_value(CLICK, "team", "T0123ABCDEF"), "team: Input should be a valid dict"),
            ("channel-string", with_value(CLICK, "channel", "C0123OPSCHN"), "channel: Input should be"),
            ("without-trigger-id", without(CLICK, "trigger_id"), "trigger_id: Field required"),
            ("without-container", without(CLICK, "container"), "container: Field required"),
            ("without-container-type", without(CLICK, "container.type"), "container.type: Field required"),
            (
                "without-response-url",
                without(CLICK, "response_url"),
                "input: a click on a message has no response_url",
            ),
            ("enterprise-number", with_value(CLICK, "enterprise", 5), "enterprise.str: Input should be"),
            ("response-url-number", with_value(CLICK, "response_url", 5), "response_url: Input should be"),
            (
                "message-user-number",
                with_value(CLICK, "message.user", 5),
                "message.user.str: Input should be",
            ),
        ]
    ),
    *(
        case(f"submit-{name}", interactive_body(payload), FORM, 400, f"view_submission: {reason}")
        for name, payload, reason in [
            ("without-view", without(SUBMIT, "view"), "view: Field required"),
            ("view-null", with_value(SUBMIT, "view", None), "view: Input should be a valid dict"),
            ("without-callback-id", without(SUBMIT, "view.callback_id"), "view.callback_id: Field required"),
            (
                "values-list",
                with_value(SUBMIT, "view.state.values", []),
                "view.state.values: Input should be",
            ),
            (
                "block-list",
                with_value(SUBMIT, "view.state.values.reason_block", []),
                "view.state.values.reason_block: Input",
            ),
            ("input-value-number", with_value(SUBMIT, f"{REASON}.value", 7), f"{REASON}.value: Input"),
            (
                "metadata-number",
                with_value(SUBMIT, "view.private_metadata", 7),
                "view.private_metadata: Input",
            ),
            ("without-user", without(SUBMIT, "user"), "user: Field required"),
            (
                "response-urls-number",
                with_value(SUBMIT, "response_urls", 5),
                "response_urls: Input should be",
            ),
            (
                "response-urls-null",
                with_value(SUBMIT, "response_urls", None),
                "response_urls: may be left out but not null",
            ),
            (
                "response-url-item",
                with_value(SUBMIT, "response_urls", [5]),
                "response_urls.0: Input should be",
            ),
        ]
    ),
    *(
        case(f"event-{name}", json_body(payload), JSON, 400, f"event_callback: {reason}")
        for name, payload, reason in [
            ("without-event", without(MENTION, "event"), "event: Field required"),
            ("event-null", with_value(MENTION, "event", None), "event: Input should be a valid dict"),
            ("event-list", with_value(MENTION, "event", [1]), "event: Input should be a valid dict"),
            ("without-event-type", without(MENTION, "event.type"), "event.type: Field required"),
            ("event-user-number", with_value(MENTION, "event.user", 5), "event.user.str: Input should be"),
            ("authorizations-number", with_value(MENTION, "authorizations", 5), "authorizations: Input"),
            ("authorization-number", with_value(MENTION, "authorizations.0", 5), "authorizations.0: Input"),
            (
                "authorization-team",
                with_value(MENTION, "authorizations.0.team", 5),
                "authorizations.0.team.str",
            ),
            ("authorizations-deep", nested_authorizations(300), "authorizations.0.authorizations.0.…"),
        ]
    ),
    case(
        "url-verification-without-challenge",
        json_body(without(CHALLENGE, "challenge")),
        JSON,
        400,
        "url_verification: challenge: Field required",
    ),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "postgres"])
async def shared_bot(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningBot]:
    """One bot for the whole table: each case checks that it changed nothing."""
    directory = tmp_path_factory.mktemp(f"bot-{request.param}")
    async with (
        throwaway_database(request.param, directory) as url,
        running_bot(database_url=url, tmp_path=directory) as bot,
    ):
        yield bot


@pytest.mark.parametrize(("body", "content_type", "status", "reason"), REFUSED)
async def test_malformed_signed_request_is_refused_with_its_reason(
    shared_bot: RunningBot,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    content_type: str | None,
    status: int,
    reason: str,
) -> None:
    before = await _state(shared_bot)
    caplog.set_level(logging.WARNING)

    response = await shared_bot.driver.raw_request(body, content_type).send()
    await shared_bot.carapulse.runtime.supervisor.drain()

    assert (response.status, response.headers["Content-Type"].split(";")[0]) == (status, "text/plain")
    assert reason in response.body and len(response.body) < 200
    assert _edge_lines(caplog) == [f"refused a Slack request: {status} {response.body}"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert await _state(shared_bot) == before


@pytest.mark.parametrize(
    ("forged", "logged"),
    [
        ({"secret": "forged-secret"}, "X-Slack-Signature does not match the body"),
        ({"timestamp": 1767225600}, "X-Slack-Request-Timestamp is more than 300 s off"),
        (
            {"replace_headers": {"X-Slack-Signature": None}},
            "no X-Slack-Request-Timestamp or X-Slack-Signature",
        ),
        ({"replace_headers": {"X-Slack-Request-Timestamp": None}}, "no X-Slack-Request-Timestamp or"),
        ({"replace_headers": {"X-Slack-Request-Timestamp": "soon"}}, "is not a Unix time"),
        ({"replace_headers": {"X-Slack-Request-Timestamp": "9" * 5000}}, "is not a Unix time"),
        ({"replace_headers": {"X-Slack-Signature": "v0=caf\u00e9"}}, "X-Slack-Signature does not match"),
    ],
    ids=[
        "wrong-secret",
        "stale",
        "no-signature",
        "no-timestamp",
        "word-timestamp",
        "huge-timestamp",
        "non-ascii",
    ],
)
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (form_body(COMMAND), FORM),
        (b"text=\xff", FORM),
        (b"[1", JSON),
        (b"", "text/plain"),
    ],
    ids=["command", "invalid-utf8", "bad-json", "empty-text"],
)
async def test_unsigned_request_gets_bolts_401_whatever_its_body(
    shared_bot: RunningBot,
    caplog: pytest.LogCaptureFixture,
    forged: dict[str, object],
    logged: str,
    body: bytes,
    content_type: str,
) -> None:
    before = await _state(shared_bot)
    caplog.set_level(logging.WARNING)

    response = await shared_bot.driver.raw_request(body, content_type).send(**forged)  # type: ignore[arg-type]

    assert (response.status, response.json()) == (401, {"error": "invalid request"})
    assert len(_edge_lines(caplog)) == 1 and logged in _edge_lines(caplog)[0]
    assert await _state(shared_bot) == before


async def test_huge_body_is_refused_before_the_signature_is_read(shared_bot: RunningBot) -> None:
    response = await shared_bot.driver.raw_request(b"x" * (MAX_BODY_BYTES + 1), FORM).send(secret="forged")

    assert (response.status, response.body) == (413, "body is larger than 1048576 bytes")


async def test_slash_command_passes_the_edge_and_posts_its_card(shared_bot: RunningBot) -> None:
    plans = await shared_bot.count(Plan)

    response = await shared_bot.driver.slash_command("scale checkout to 5 in shop")

    assert response.status == 200
    await shared_bot.card_text(plans + 1, "Awaiting approval")
    assert await shared_bot.count(Plan) == plans + 1


@pytest.mark.parametrize(
    "content_type",
    [FORM, f"{FORM}; charset=utf-8", f'{FORM};charset="UTF-8"'],
    ids=["bare", "utf8", "quoted"],
)
async def test_slash_command_with_a_utf8_charset_is_answered(
    shared_bot: RunningBot, content_type: str
) -> None:
    fields = shared_bot.driver.slash_command_fields("help")

    response = await shared_bot.driver.raw_request(form_body(fields), content_type).send()

    assert response.status == 200
    assert response.json()["response_type"] == "ephemeral"


async def test_url_verification_gets_its_challenge_back(shared_bot: RunningBot) -> None:
    response = await shared_bot.driver.json_request(CHALLENGE).send()

    assert (response.status, response.json()) == (200, {"challenge": CHALLENGE["challenge"]})


async def test_click_on_an_unknown_plan_passes_the_edge_and_is_answered(shared_bot: RunningBot) -> None:
    answered = len(shared_bot.slack.responses)

    response = await shared_bot.driver.block_action(ids.PLAN_APPROVE, "999")

    assert response.status == 200
    replies = await shared_bot.slack.wait_until(lambda: shared_bot.slack.responses[answered:])
    assert "There is no plan #999" in replies[0].body["text"]


async def test_blank_reason_in_a_modal_passes_the_edge_and_is_refused_in_the_modal(
    shared_bot: RunningBot,
) -> None:
    values = {ids.REASON_BLOCK: {ids.REASON_INPUT: {"type": "plain_text_input", "value": "  "}}}

    response = await shared_bot.driver.view_submission(ids.REJECT_MODAL, values, '{"plan_id": 1}')

    assert response.status == 200
    assert response.json()["response_action"] == "errors"


@pytest.mark.parametrize(
    "metadata", ["not json", "5", '{"plan_id": "x"}', ""], ids=["text", "number", "bad-id", "empty"]
)
async def test_modal_that_lost_its_plan_is_told_so_in_the_modal(
    shared_bot: RunningBot, metadata: str
) -> None:
    values = {ids.REASON_BLOCK: {ids.REASON_INPUT: {"type": "plain_text_input", "value": "not now"}}}
    before = await _state(shared_bot)

    response = await shared_bot.driver.view_submission(ids.REJECT_MODAL, values, metadata)

    assert response.status == 200
    assert response.json() == {
        "response_action": "errors",
        "errors": {ids.REASON_BLOCK: "This dialog has lost track of its plan; open it again from the card."},
    }
    assert await _state(shared_bot) == before


async def _state(bot: RunningBot) -> tuple[int, int, int, int, int]:
    """Rows and Slack calls a refused request must not add to."""
    await bot.carapulse.runtime.supervisor.drain()
    return (
        await bot.count(Plan),
        await bot.count(AuditEvent),
        len(bot.slack.calls_to("chat.postMessage")),
        len(bot.slack.calls_to("views.open")),
        len(bot.slack.responses),
    )


def _edge_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.http" and r.levelno == logging.WARNING]
