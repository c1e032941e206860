"""Block Kit limit checks for the fake Slack, with every number read from
bot/playground/specs/slack/limits.json.

`check_blocks` and `check_view` return human-readable violations (empty when fine), each naming
the JSON path, e.g. `blocks[3].elements[0].text.text: has 80 characters, max 75`. They cover what
Slack rejects and slack_sdk does not check for plain dict blocks (see LIMITS.md §6).
"""

import json
from collections.abc import Callable
from typing import Any

from bot.playground.slack.specs import load_spec

SURFACES = ("message", "modal", "home")

# Block and element types Slack knows without limits of their own in limits.json.
_PLAIN_BLOCKS = frozenset({"divider", "rich_text", "file", "video"})
_PLAIN_ELEMENTS = frozenset(
    {
        "image",
        "datepicker",
        "datetimepicker",
        "timepicker",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
        "external_select",
        "multi_external_select",
        "email_text_input",
        "url_text_input",
        "number_input",
        "rich_text_input",
        "file_input",
    }
)
_OPTION_ELEMENTS = ("static_select", "multi_static_select", "overflow", "checkboxes", "radio_buttons")


def check_blocks(blocks: Any, surface: str = "message") -> list[str]:
    if surface not in SURFACES:
        raise ValueError(f"surface must be one of {SURFACES}, got {surface!r}")
    checker = _Checker(load_spec("limits.json"))
    checker.blocks("blocks", blocks, surface)
    return checker.problems


def check_view(view: Any) -> list[str]:
    """Checks a modal or Home tab view, its blocks included (not its size: see `view_too_large`)."""
    checker = _Checker(load_spec("limits.json"))
    checker.view("view", view)
    return checker.problems


def view_too_large(view: Any) -> bool:
    max_bytes = load_spec("limits.json")["surfaces"]["view_payload_max_bytes"]
    return len(json.dumps(view).encode()) > max_bytes


class _Checker:
    def __init__(self, limits: dict[str, Any]) -> None:
        self.limits = limits
        self.problems: list[str] = []
        self.block_limits: dict[str, Any] = limits["blocks"]
        self.element_limits: dict[str, Any] = limits["elements"]
        # A text object holds at most what a section's text may hold.
        self.text_max: int = self.block_limits["section"]["text"][1]
        self.action_id_max: int = self.element_limits["button"]["action_id"]
        self.placeholder_max: int = self.element_limits["static_select"]["placeholder"]
        self.markdown_total = 0
        self.block_checks: dict[str, Callable[[str, dict[str, Any]], None]] = {
            "section": self.section,
            "header": self.header,
            "context": self.context,
            "actions": self.actions,
            "input": self.input,
            "image": self.image,
            "markdown": self.markdown,
        }

    # -- primitives ---------------------------------------------------------------------------

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def length(self, path: str, value: Any, maximum: int, minimum: int = 0) -> None:
        if value is None:
            if minimum:
                self.problem(path, "is required")
        elif not isinstance(value, str):
            self.problem(path, f"must be a string, got {type(value).__name__}")
        elif len(value) < minimum:
            self.problem(path, f"has {len(value)} characters, min {minimum}")
        elif len(value) > maximum:
            self.problem(path, f"has {len(value)} characters, max {maximum}")

    def items(self, path: str, value: Any, maximum: int, minimum: int = 0) -> list[Any]:
        if value is None:
            if minimum:
                self.problem(path, "is required")
            return []
        if not isinstance(value, list):
            self.problem(path, f"must be a list, got {type(value).__name__}")
            return []
        if not minimum <= len(value) <= maximum:
            self.problem(path, f"has {len(value)} items, must have {minimum} to {maximum}")
        return value

    def text(self, path: str, obj: Any, maximum: int, *, plain: bool = False, required: bool = True) -> None:
        if obj is None:
            if required:
                self.problem(path, "is required")
            return
        if not isinstance(obj, dict):
            self.problem(path, "must be a text object")
            return
        allowed = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if obj.get("type") not in allowed:
            self.problem(f"{path}.type", f"is {obj.get('type')!r}, must be {' or '.join(allowed)}")
        self.length(f"{path}.text", obj.get("text"), maximum, minimum=1)

    # -- surfaces -----------------------------------------------------------------------------

    def blocks(self, path: str, blocks: Any, surface: str) -> None:
        maximum = self.limits["surfaces"][f"{surface}_blocks_max"]
        minimum = 0 if surface == "message" else 1
        block_ids: set[str] = set()
        for index, block in enumerate(self.items(path, blocks, maximum, minimum)):
            self.block(f"{path}[{index}]", block, block_ids)
        markdown_max = self.limits["surfaces"]["markdown_block_text_max_cumulative"]
        if self.markdown_total > markdown_max:
            self.problem(path, f"markdown blocks hold {self.markdown_total} characters, max {markdown_max}")

    def view(self, path: str, view: Any) -> None:
        if not isinstance(view, dict):
            self.problem(path, "must be a view object")
            return
        kind = view.get("type")
        if kind not in ("modal", "home"):
            self.problem(f"{path}.type", f"is {kind!r}, must be modal or home")
            return
        limits = self.limits["views"][kind]
        self.length(f"{path}.private_metadata", view.get("private_metadata"), limits["private_metadata"])
        self.length(f"{path}.callback_id", view.get("callback_id"), limits["callback_id"])
        if kind == "modal":
            self.modal_chrome(path, view, limits)
        else:
            for key in ("submit", "close"):
                if view.get(key) is not None:
                    self.problem(f"{path}.{key}", "a home view cannot have one")
        self.blocks(f"{path}.blocks", view.get("blocks"), kind)

    def modal_chrome(self, path: str, view: dict[str, Any], limits: dict[str, Any]) -> None:
        self.text(f"{path}.title", view.get("title"), limits["title"][1], plain=True)
        self.text(f"{path}.submit", view.get("submit"), limits["submit"], plain=True, required=False)
        self.text(f"{path}.close", view.get("close"), limits["close"], plain=True, required=False)
        self.length(f"{path}.external_id", view.get("external_id"), limits["external_id"])
        blocks = view.get("blocks") if isinstance(view.get("blocks"), list) else []
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if has_input and view.get("submit") is None:
            self.problem(f"{path}.submit", "is required when the modal has an input block")

    # -- blocks -------------------------------------------------------------------------------

    def block(self, path: str, block: Any, block_ids: set[str]) -> None:
        if not isinstance(block, dict):
            self.problem(path, "must be a block object")
            return
        block_id = block.get("block_id")
        self.length(f"{path}.block_id", block_id, self.block_limits["any"]["block_id"])
        if block_id in block_ids:
            self.problem(f"{path}.block_id", f"{block_id!r} is used by an earlier block")
        if isinstance(block_id, str):
            block_ids.add(block_id)
        kind = block.get("type")
        check = self.block_checks.get(kind)
        if check is not None:
            check(path, block)
        elif kind not in _PLAIN_BLOCKS:
            self.problem(f"{path}.type", f"unknown block type {kind!r}")

    def section(self, path: str, block: dict[str, Any]) -> None:
        limits = self.block_limits["section"]
        if "text" not in block and "fields" not in block:
            self.problem(path, "a section needs text or fields")
        if "text" in block:
            self.text(f"{path}.text", block["text"], limits["text"][1])
        fields = self.items(f"{path}.fields", block.get("fields"), limits["fields_items"])
        for index, field in enumerate(fields):
            self.text(f"{path}.fields[{index}]", field, limits["field_text"])
        if "accessory" in block:
            self.element(f"{path}.accessory", block["accessory"])

    def header(self, path: str, block: dict[str, Any]) -> None:
        limits = self.block_limits["header"]
        plain = limits["text_type"] == "plain_text"
        self.text(f"{path}.text", block.get("text"), limits["text"], plain=plain)

    def context(self, path: str, block: dict[str, Any]) -> None:
        maximum = self.block_limits["context"]["elements"]
        for index, element in enumerate(self.items(f"{path}.elements", block.get("elements"), maximum, 1)):
            element_path = f"{path}.elements[{index}]"
            if isinstance(element, dict) and element.get("type") == "image":
                self.image_element(element_path, element)
            else:
                self.text(element_path, element, self.text_max)

    def actions(self, path: str, block: dict[str, Any]) -> None:
        maximum = self.block_limits["actions"]["elements"]
        elements = self.items(f"{path}.elements", block.get("elements"), maximum, 1)
        action_ids: set[str] = set()
        for index, element in enumerate(elements):
            self.element(f"{path}.elements[{index}]", element)
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if action_id in action_ids:
                self.problem(f"{path}.elements[{index}].action_id", f"{action_id!r} repeats in this block")
            if isinstance(action_id, str):
                action_ids.add(action_id)

    def input(self, path: str, block: dict[str, Any]) -> None:
        limits = self.block_limits["input"]
        self.text(f"{path}.label", block.get("label"), limits["label"], plain=True)
        self.text(f"{path}.hint", block.get("hint"), limits["hint"], plain=True, required=False)
        if "element" not in block:
            self.problem(f"{path}.element", "is required")
        else:
            self.element(f"{path}.element", block["element"])

    def image(self, path: str, block: dict[str, Any]) -> None:
        limits = self.block_limits["image"]
        self.image_element(path, block)
        self.text(f"{path}.title", block.get("title"), limits["title"], plain=True, required=False)

    def image_element(self, path: str, image: dict[str, Any]) -> None:
        limits = self.block_limits["image"]
        if "slack_file" not in image:
            self.length(f"{path}.image_url", image.get("image_url"), limits["image_url"], minimum=1)
        self.length(f"{path}.alt_text", image.get("alt_text"), limits["alt_text"], minimum=1)

    def markdown(self, path: str, block: dict[str, Any]) -> None:
        text = block.get("text")
        self.length(f"{path}.text", text, self.block_limits["markdown"]["text"], minimum=1)
        if isinstance(text, str):
            self.markdown_total += len(text)

    # -- elements and composition objects -----------------------------------------------------

    def element(self, path: str, element: Any) -> None:
        if not isinstance(element, dict):
            self.problem(path, "must be an element object")
            return
        kind = element.get("type")
        if kind == "image":
            self.image_element(path, element)
            return
        self.length(f"{path}.action_id", element.get("action_id"), self.action_id_max)
        limits = self.element_limits.get(kind, {})
        placeholder_max = limits.get("placeholder", self.placeholder_max)
        self.text(
            f"{path}.placeholder", element.get("placeholder"), placeholder_max, plain=True, required=False
        )
        if "confirm" in element:
            self.confirm(f"{path}.confirm", element["confirm"])
        if kind == "button":
            self.button(path, element)
        elif kind in _OPTION_ELEMENTS:
            self.option_element(path, element, limits)
        elif kind == "plain_text_input":
            self.text_input(path, element, limits)
        elif kind not in _PLAIN_ELEMENTS:
            self.problem(f"{path}.type", f"unknown element type {kind!r}")

    def button(self, path: str, button: dict[str, Any]) -> None:
        limits = self.element_limits["button"]
        self.text(f"{path}.text", button.get("text"), limits["text"], plain=True)
        self.length(f"{path}.value", button.get("value"), limits["value"])
        self.length(f"{path}.url", button.get("url"), limits["url"])
        self.length(
            f"{path}.accessibility_label", button.get("accessibility_label"), limits["accessibility_label"]
        )
        self.style(f"{path}.style", button.get("style"))

    def option_element(self, path: str, element: dict[str, Any], limits: dict[str, Any]) -> None:
        bounds = limits["options"]
        minimum, maximum = bounds if isinstance(bounds, list) else (1, bounds)
        plain = element["type"] not in ("checkboxes", "radio_buttons")
        if "option_groups" in element:
            groups_max = self.element_limits["static_select"]["option_groups"]
            groups = self.items(f"{path}.option_groups", element["option_groups"], groups_max, 1)
            for index, group in enumerate(groups):
                options = group.get("options") if isinstance(group, dict) else None
                self.options(f"{path}.option_groups[{index}].options", options, 1, maximum, plain=plain)
        else:
            self.options(f"{path}.options", element.get("options"), minimum, maximum, plain=plain)

    def options(self, path: str, options: Any, minimum: int, maximum: int, *, plain: bool) -> None:
        limits = self.limits["composition"]["option"]
        for index, option in enumerate(self.items(path, options, maximum, minimum)):
            option_path = f"{path}[{index}]"
            if not isinstance(option, dict):
                self.problem(option_path, "must be an option object")
                continue
            self.text(f"{option_path}.text", option.get("text"), limits["text"], plain=plain)
            self.length(f"{option_path}.value", option.get("value"), limits["value"], minimum=1)
            self.text(
                f"{option_path}.description", option.get("description"), limits["description"], required=False
            )
            self.length(f"{option_path}.url", option.get("url"), limits["url"])

    def text_input(self, path: str, element: dict[str, Any], limits: dict[str, Any]) -> None:
        max_length = element.get("max_length")
        if max_length is not None and not (
            isinstance(max_length, int) and 1 <= max_length <= limits["max_length"]
        ):
            self.problem(f"{path}.max_length", f"is {max_length}, must be 1 to {limits['max_length']}")

    def confirm(self, path: str, confirm: Any) -> None:
        if not isinstance(confirm, dict):
            self.problem(path, "must be a confirmation dialog object")
            return
        limits = self.limits["composition"]["confirm"]
        self.text(f"{path}.title", confirm.get("title"), limits["title"], plain=True)
        self.text(f"{path}.text", confirm.get("text"), limits["text"])
        self.text(f"{path}.confirm", confirm.get("confirm"), limits["confirm"], plain=True)
        self.text(f"{path}.deny", confirm.get("deny"), limits["deny"], plain=True)
        self.style(f"{path}.style", confirm.get("style"))

    def style(self, path: str, style: Any) -> None:
        allowed = self.element_limits["button"]["style"]
        if style is not None and style not in allowed:
            self.problem(path, f"is {style!r}, must be one of {allowed}")
