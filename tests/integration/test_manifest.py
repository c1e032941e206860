"""manifest.yml declares exactly what the code uses: the slash command, shortcuts and events that
listeners are registered for (recorded while the real app is built, incidents included), one request
URL for all of them, and the bot scopes of every Slack Web API method the code calls (found in the
source, each mapped to its scopes by the method specs in bot/playground/specs/slack/)."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.http import SLACK_EVENTS_PATH
from bot.oauth import BOT_SCOPES, OAUTH_REDIRECT_PATH
from bot.playground.slack.state import OPS_CHANNEL
from tests.databases import throwaway_database
from tests.harness import running_bot
from tests.hooks import HOOK_SETTINGS

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "bot" / "playground" / "specs" / "slack"
SOURCES = ("actions", "blocks", "bot", "tools")

# files_upload_v2 is slack_sdk's helper over the two methods of Slack's external upload.
HELPERS = {"files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}
# A conversation method's scopes differ by the kind of conversation (channels: public, groups:
# private, im: direct messages); the kinds each call reaches here.
CONVERSATION_KINDS = {
    "conversations.replies": {"channels", "groups"},  # plan threads, public or private channels
    "conversations.open": {"im"},  # users=…: a direct message with one person
    "conversations.create": {"channels"},  # incident channels are public
    "conversations.invite": {"channels"},
}
# Incidents on, so their listeners (buttons) are registered too.
INCIDENTS = {**HOOK_SETTINGS, "INCIDENT_DEFAULT_CHANNEL": OPS_CHANNEL}
# Scopes that come with a feature rather than a method.
EVENT_SCOPES = {"app_mention": "app_mentions:read", "app_home_opened": None}
# Slack grants users:read.email only beside users:read.
SCOPE_NEEDS = {"users:read.email": "users:read"}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


@pytest.fixture
async def registered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, set[str]]:
    """What the app's listeners answer to, recorded as `actions.register` wires them."""
    seen: dict[str, set[str]] = {"command": set(), "event": set(), "shortcut": set(), "options": set()}
    for kind in seen:
        original = getattr(AsyncApp, kind)

        def recording(self: AsyncApp, constraint: object, *args: object, _kind=kind, _orig=original, **kw):
            seen[_kind].add(constraint if isinstance(constraint, str) else json.dumps(constraint))
            return _orig(self, constraint, *args, **kw)

        monkeypatch.setattr(AsyncApp, kind, recording)
    original_message = AsyncApp.message

    def message(self: AsyncApp, *args: object, **kw: object):
        seen["event"].add("message")
        return original_message(self, *args, **kw)

    monkeypatch.setattr(AsyncApp, "message", message)
    async with (
        throwaway_database("sqlite", tmp_path) as url,
        running_bot(database_url=url, tmp_path=tmp_path, overrides=INCIDENTS),
    ):
        pass
    return seen


def web_api_methods() -> set[str]:
    """Every Slack Web API method the code calls through an AsyncWebClient."""
    client_methods = {name for name in dir(AsyncWebClient) if not name.startswith("_")}
    called: set[str] = set()
    for call in _attribute_calls():
        if call in HELPERS:
            called.update(HELPERS[call])
        elif call in client_methods and "_" in call and call != "api_call":
            called.add(call.replace("_", "."))
    return called


def method_scopes() -> dict[str, list[str]]:
    specs = {}
    for name in ("methods.json", "methods_extra.json"):
        for method, spec in json.loads((SPECS / name).read_text())["methods"].items():
            specs.setdefault(method, spec["docs_current"]["bot_scopes"])
    return specs


def required_scopes(methods: set[str], events: set[str], commands: bool) -> set[str]:
    specs = method_scopes()
    required = {"commands"} if commands else set()
    for method in sorted(methods):
        assert method in specs, f"{method} is called but its scopes are unknown: add it to methods_extra.json"
        accepted = specs[method]
        if method in CONVERSATION_KINDS:
            required |= {s for s in accepted if s.split(":")[0] in CONVERSATION_KINDS[method]}
        elif accepted:
            assert len(accepted) == 1, f"{method} takes one of {accepted}: say which applies"
            required.add(accepted[0])
    required |= {EVENT_SCOPES[event] for event in events if EVENT_SCOPES[event]}
    required |= {SCOPE_NEEDS[s] for s in required if s in SCOPE_NEEDS}
    return required


def test_the_slash_command_is_the_one_registered_and_posts_to_the_events_path(
    manifest: dict, registered: dict[str, set[str]]
) -> None:
    commands = manifest["features"]["slash_commands"]
    assert {c["command"] for c in commands} == registered["command"] == {"/carapulse"}
    assert {urlparse(c["url"]).path for c in commands} == {SLACK_EVENTS_PATH}


def test_shortcuts_are_the_ones_registered(manifest: dict, registered: dict[str, set[str]]) -> None:
    shortcuts = manifest["features"]["shortcuts"]
    assert {s["callback_id"] for s in shortcuts} == registered["shortcut"]


def test_bot_events_are_the_ones_listened_to(manifest: dict, registered: dict[str, set[str]]) -> None:
    events = manifest["settings"]["event_subscriptions"]
    assert set(events["bot_events"]) == registered["event"]
    assert urlparse(events["request_url"]).path == SLACK_EVENTS_PATH
    assert manifest["features"]["app_home"]["home_tab_enabled"] is ("app_home_opened" in registered["event"])


def test_interactivity_posts_to_the_events_path(manifest: dict, registered: dict[str, set[str]]) -> None:
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    assert urlparse(interactivity["request_url"]).path == SLACK_EVENTS_PATH
    # No external select menus are served, so none is declared.
    assert registered["options"] == set()
    assert "message_menu_options_url" not in interactivity


def test_the_oauth_redirect_is_the_path_carapulse_serves(manifest: dict) -> None:
    urls = manifest["oauth_config"]["redirect_urls"]
    assert {urlparse(url).path for url in urls} == {OAUTH_REDIRECT_PATH}


def test_bot_scopes_are_exactly_those_of_the_calls_and_events(
    manifest: dict, registered: dict[str, set[str]]
) -> None:
    methods = web_api_methods()
    # The scan finds what the code is known to call.
    assert {"chat.postMessage", "chat.update", "views.publish", "conversations.open"} <= methods
    expected = required_scopes(
        methods, registered["event"], bool(registered["command"] | registered["shortcut"])
    )
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(expected)
    # An OAuth install asks for the same scopes.
    assert sorted(BOT_SCOPES) == sorted(expected)


def test_a_call_without_known_scopes_is_reported() -> None:
    with pytest.raises(AssertionError, match=r"reactions\.nonesuch is called"):
        required_scopes({"reactions.nonesuch"}, set(), commands=False)


def test_a_direct_message_needs_im_write_not_channels_manage() -> None:
    assert required_scopes({"conversations.open"}, set(), commands=False) == {"im:write"}


def _attribute_calls() -> Iterator[str]:
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            if "playground" in path.parts:
                continue  # the fake Slack's own code, not calls the bot makes
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    yield node.func.attr
