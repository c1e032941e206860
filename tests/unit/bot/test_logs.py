"""Log lines: JSON that parses, one per event, with the ids of the work, and no secret."""

from __future__ import annotations

import io
import json
import logging

import pytest
from pydantic import SecretStr

from bot import log_context, logs

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp"


@pytest.fixture
def captured() -> io.StringIO:
    """Lines written as `carapulse` writes them (tests/conftest.py puts logging back afterwards)."""
    stream = io.StringIO()
    logs.configure(level="DEBUG", form="json", secrets=[SIGNING_SECRET], stream=stream)
    return stream


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_event_is_one_json_line_with_the_ids_bound_where_it_was_logged(captured: io.StringIO) -> None:
    log = logging.getLogger("carapulse.test")
    log.info("outside")
    with log_context.bound(request_id="r1"), log_context.bound(plan_id=7, execution_id=3):
        log.warning("inside\nspanning two lines")
    log.info("after")

    first, inside, after = lines(captured)
    assert first["message"] == "outside" and "request_id" not in first
    assert inside["level"] == "WARNING"
    assert inside["logger"] == "carapulse.test"
    assert inside["message"] == "inside\nspanning two lines"
    assert (inside["request_id"], inside["plan_id"], inside["execution_id"]) == ("r1", 7, 3)
    assert "plan_id" not in after


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        (f"signing with {SIGNING_SECRET}", "signing with"),
        (f"posting with token={BOT_TOKEN}", "posting with"),
        (f"headers {{'Authorization': 'Bearer {BOT_TOKEN}'}}", "headers"),
        ("Authorization: Basic dXNlcjpodW50ZXIy", ""),
        ("socket with xapp-1-A0123-4567890-abcdefabcdef", "socket with"),
    ],
)
def test_secrets_never_reach_a_line(captured: io.StringIO, said: str, kept: str) -> None:
    logging.getLogger("slack_sdk").info("%s", said)

    [line] = lines(captured)
    text = json.dumps(line)
    assert kept in line["message"]
    for secret in (SIGNING_SECRET, BOT_TOKEN, "dXNlcjpodW50ZXIy", "abcdefabcdef"):
        assert secret not in text


def test_an_exception_is_in_the_line_and_redacted(captured: io.StringIO) -> None:
    try:
        raise RuntimeError(f"call failed with {BOT_TOKEN}")
    except RuntimeError:
        logging.getLogger("carapulse").exception("step failed")

    [line] = lines(captured)
    assert "RuntimeError: call failed with [redacted]" in str(line["exception"])
    assert BOT_TOKEN not in json.dumps(line)


def test_text_lines_carry_the_ids_and_hide_secrets() -> None:
    stream = io.StringIO()
    logs.configure(level="INFO", form="text", secrets=[SIGNING_SECRET], stream=stream)
    with log_context.bound(plan_id=12):
        logging.getLogger("bot.worker").info("ran with %s", SIGNING_SECRET)

    assert stream.getvalue().rstrip().endswith("INFO bot.worker: ran with [redacted] [plan_id=12]")


def test_secret_settings_are_found_by_name_including_secret_strings() -> None:
    found = logs.secrets_of(
        {
            "slack_signing_secret": SIGNING_SECRET,
            "smtp_password": SecretStr("hunter22"),
            "port": 3000,
            "planner": "rules",
        }
    )

    assert found == [SIGNING_SECRET, "hunter22"]
