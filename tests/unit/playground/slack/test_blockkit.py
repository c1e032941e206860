import json
from pathlib import Path
from typing import Any

import pytest

from bot.playground.slack.blockkit import check_blocks, check_view, view_too_large
from bot.playground.slack.specs import SPECS_ENV_VAR, load_spec


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def section(text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text), **extra}


def button(**extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain("Approve"), "action_id": "plan_approve", "value": "42", **extra}


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def option(text: str = "Too risky", value: str = "risk", **extra: Any) -> dict[str, Any]:
    return {"text": plain(text), "value": value, **extra}


def select(options: list[dict[str, Any]], kind: str = "static_select", **extra: Any) -> dict[str, Any]:
    return {"type": kind, "action_id": "pick", "options": options, **extra}


def confirm(**overrides: Any) -> dict[str, Any]:
    dialog = {
        "title": plain("Sure?"),
        "text": mrkdwn("Scale prod"),
        "confirm": plain("Yes"),
        "deny": plain("No"),
    }
    return {**dialog, **overrides}


def input_block(element: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    block = {"type": "input", "label": plain("Reason"), **extra}
    if element is not None:
        block["element"] = element
    return block


def modal(*blocks: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": plain("Reject plan"), "blocks": list(blocks) or [section()], **extra}


def test_example_payload_blocks_and_views_pass() -> None:
    message = load_spec("payloads/block_actions.json")["message"]
    submitted_view = load_spec("payloads/view_submission.json")["view"]
    home_view = load_spec("payloads/app_home_opened.json")["event"]["view"]

    assert check_blocks(message["blocks"]) == []
    assert check_view(submitted_view) == []
    assert check_view(home_view) == []


@pytest.mark.parametrize(
    "blocks",
    [
        [],
        [section("x" * 3000)],
        [{"type": "section", "fields": [mrkdwn("f" * 2000)] * 10}],
        [{"type": "header", "text": plain("h" * 150)}],
        [actions(*[button(action_id=f"b{i}") for i in range(25)])],
        [actions(button(style="danger", confirm=confirm(style="primary")))],
        [{"type": "context", "elements": [mrkdwn("c")] * 10}],
        [{"type": "divider"}] * 50,
        [section(accessory=select([option()] * 100))],
        [section(accessory=select([option()] * 5, kind="overflow"))],
        [{"type": "markdown", "text": "m" * 12000}],
        [{"type": "image", "image_url": "https://x/y.png", "alt_text": "graph", "title": plain("t")}],
    ],
    ids=lambda blocks: f"{len(blocks)} blocks",
)
def test_blocks_at_the_limits_pass(blocks: list[dict[str, Any]]) -> None:
    assert check_blocks(blocks) == []


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        ([{"type": "divider"}] * 51, "blocks: has 51 items, must have 0 to 50"),
        ([{"type": "divider", "block_id": "b" * 256}], "blocks[0].block_id: has 256 characters, max 255"),
        (
            [section(block_id="a"), section(block_id="a")],
            "blocks[1].block_id: 'a' is used by an earlier block",
        ),
        ([{"type": "carousel"}], "blocks[0].type: unknown block type 'carousel'"),
        ([section("x" * 3001)], "blocks[0].text.text: has 3001 characters, max 3000"),
        ([section("")], "blocks[0].text.text: has 0 characters, min 1"),
        ([{"type": "section"}], "blocks[0]: a section needs text or fields"),
        ([{"type": "section", "fields": [mrkdwn("f")] * 11}], "blocks[0].fields: has 11 items"),
        (
            [{"type": "section", "fields": [mrkdwn("f" * 2001)]}],
            "fields[0].text: has 2001 characters, max 2000",
        ),
        ([{"type": "header", "text": mrkdwn("h")}], "blocks[0].text.type: is 'mrkdwn', must be plain_text"),
        ([{"type": "header", "text": plain("h" * 151)}], "blocks[0].text.text: has 151 characters, max 150"),
        ([{"type": "header"}], "blocks[0].text: is required"),
        ([{"type": "context", "elements": [mrkdwn("c")] * 11}], "blocks[0].elements: has 11 items"),
        ([{"type": "context", "elements": []}], "blocks[0].elements: has 0 items, must have 1 to 10"),
        ([actions(*[button(action_id=f"b{i}") for i in range(26)])], "blocks[0].elements: has 26 items"),
        ([actions()], "blocks[0].elements: has 0 items, must have 1 to 25"),
        ([actions(button(), button())], "elements[1].action_id: 'plan_approve' repeats in this block"),
        ([actions(button(text=plain("a" * 76)))], "elements[0].text.text: has 76 characters, max 75"),
        ([actions(button(text=mrkdwn("Approve")))], "elements[0].text.type: is 'mrkdwn', must be plain_text"),
        ([actions(button(action_id="a" * 256))], "elements[0].action_id: has 256 characters, max 255"),
        ([actions(button(value="v" * 2001))], "elements[0].value: has 2001 characters, max 2000"),
        ([actions(button(url="https://" + "u" * 2993))], "elements[0].url: has 3001 characters, max 3000"),
        ([actions(button(accessibility_label="l" * 76))], "accessibility_label: has 76 characters, max 75"),
        ([actions(button(style="secondary"))], "elements[0].style: is 'secondary', must be one of"),
        (
            [actions(button(confirm=confirm(title=plain("t" * 101))))],
            "confirm.title.text: has 101 characters",
        ),
        ([actions(button(confirm=confirm(text=mrkdwn("t" * 301))))], "confirm.text.text: has 301 characters"),
        (
            [actions(button(confirm=confirm(confirm=plain("y" * 31))))],
            "confirm.confirm.text: has 31 characters",
        ),
        ([actions(button(confirm=confirm(deny=plain("n" * 31))))], "confirm.deny.text: has 31 characters"),
        ([actions({"type": "slider", "action_id": "s"})], "elements[0].type: unknown element type 'slider'"),
        (
            [section(accessory=select([option()] * 101))],
            "accessory.options: has 101 items, must have 1 to 100",
        ),
        (
            [section(accessory=select([], option_groups=[{"label": plain("g"), "options": []}]))],
            "accessory.option_groups[0].options: has 0 items, must have 1 to 100",
        ),
        ([section(accessory=select([option(text="o" * 76)]))], "options[0].text.text: has 76 characters"),
        ([section(accessory=select([option(value="v" * 151)]))], "options[0].value: has 151 characters"),
        (
            [section(accessory=select([option(description=plain("d" * 76))]))],
            "options[0].description.text: has 76 characters, max 75",
        ),
        (
            [section(accessory=select([{"text": mrkdwn("o"), "value": "o"}]))],
            "options[0].text.type: is 'mrkdwn', must be plain_text",
        ),
        ([section(accessory=select([option()] * 6, kind="overflow"))], "has 6 items, must have 1 to 5"),
        ([section(accessory=select([], kind="overflow"))], "has 0 items, must have 1 to 5"),
        ([section(accessory=select([option()] * 11, kind="checkboxes"))], "has 11 items, must have 1 to 10"),
        ([section(accessory=select([option()] * 11, kind="radio_buttons"))], "has 11 items"),
        (
            [section(accessory=select([option()], placeholder=plain("p" * 151)))],
            "accessory.placeholder.text: has 151 characters, max 150",
        ),
        (
            [input_block({"type": "plain_text_input", "action_id": "r", "max_length": 3001})],
            "blocks[0].element.max_length: is 3001, must be 1 to 3000",
        ),
        (
            [input_block({"type": "plain_text_input"}, label=plain("l" * 2001))],
            "label.text: has 2001 characters",
        ),
        (
            [input_block({"type": "plain_text_input"}, hint=plain("h" * 2001))],
            "hint.text: has 2001 characters",
        ),
        ([input_block({"type": "plain_text_input"}, label=mrkdwn("l"))], "label.type: is 'mrkdwn'"),
        ([input_block()], "blocks[0].element: is required"),
        (
            [{"type": "image", "image_url": "https://x", "alt_text": "a" * 2001}],
            "alt_text: has 2001 characters",
        ),
        ([{"type": "image", "image_url": "h" * 3001, "alt_text": "a"}], "image_url: has 3001 characters"),
        ([{"type": "image", "image_url": "https://x"}], "blocks[0].alt_text: is required"),
        ([{"type": "markdown", "text": "m" * 12001}], "blocks[0].text: has 12001 characters, max 12000"),
        ([{"type": "markdown", "text": "m" * 7000}] * 2, "markdown blocks hold 14000 characters, max 12000"),
        ("[]", "blocks: must be a list, got str"),
    ],
)
def test_blocks_over_the_limits_are_reported(blocks: list[dict[str, Any]], expected: str) -> None:
    problems = check_blocks(blocks)

    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("surface", "count", "expected"),
    [
        ("modal", 101, "view.blocks: has 101 items, must have 1 to 100"),
        ("home", 101, "view.blocks: has 101 items, must have 1 to 100"),
        ("modal", 0, "view.blocks: has 0 items, must have 1 to 100"),
    ],
)
def test_view_block_counts_follow_the_surface(surface: str, count: int, expected: str) -> None:
    view = {"type": surface, "blocks": [{"type": "divider"}] * count}
    if surface == "modal":
        view["title"] = plain("Plan")

    assert expected in check_view(view)
    assert check_blocks(view["blocks"], surface) == [p.replace("view.", "") for p in check_view(view)]


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        (modal(title=plain("t" * 25)), "view.title.text: has 25 characters, max 24"),
        ({"type": "modal", "blocks": [section()]}, "view.title: is required"),
        (modal(title=mrkdwn("Plan")), "view.title.type: is 'mrkdwn', must be plain_text"),
        (modal(submit=plain("s" * 25)), "view.submit.text: has 25 characters, max 24"),
        (modal(close=plain("c" * 25)), "view.close.text: has 25 characters, max 24"),
        (modal(private_metadata="m" * 3001), "view.private_metadata: has 3001 characters, max 3000"),
        (modal(callback_id="c" * 256), "view.callback_id: has 256 characters, max 255"),
        (modal(external_id="e" * 256), "view.external_id: has 256 characters, max 255"),
        (
            modal(input_block({"type": "plain_text_input", "action_id": "r"})),
            "view.submit: is required when the modal has an input block",
        ),
        ({"type": "home", "blocks": [section()], "submit": plain("Go")}, "view.submit: a home view cannot"),
        (
            {"type": "home", "blocks": [section()], "private_metadata": "m" * 3001},
            "private_metadata: has 3001",
        ),
        ({"type": "popup", "blocks": []}, "view.type: is 'popup', must be modal or home"),
        ({"type": "home"}, "view.blocks: is required"),
        ("{}", "view: must be a view object"),
    ],
)
def test_views_over_the_limits_are_reported(view: dict[str, Any], expected: str) -> None:
    problems = check_view(view)

    assert any(expected in problem for problem in problems), problems


def test_view_larger_than_250_kb_is_too_large() -> None:
    small = modal()
    large = modal(*[section("x" * 3000, block_id=str(i)) for i in range(90)])

    assert not view_too_large(small)
    assert view_too_large(large)


def test_unknown_surface_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="surface must be one of"):
        check_blocks([], "dialog")


def test_limits_are_read_from_the_specs_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    limits = load_spec("limits.json")
    limits["blocks"]["header"]["text"] = 10
    (tmp_path / "limits.json").write_text(json.dumps(limits))
    monkeypatch.setenv(SPECS_ENV_VAR, str(tmp_path))

    problems = check_blocks([{"type": "header", "text": plain("h" * 11)}])

    assert problems == ["blocks[0].text.text: has 11 characters, max 10"]
