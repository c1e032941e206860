import json
import urllib.parse

from bot.playground.slack.bodies import interactive_body, paths, with_value, without

PAYLOAD = {"type": "block_actions", "actions": [{"action_id": "plan_approve", "value": "42"}]}


def test_interactive_body_is_one_urlencoded_payload_field() -> None:
    fields = urllib.parse.parse_qs(interactive_body(PAYLOAD).decode())

    assert list(fields) == ["payload"]
    assert json.loads(fields["payload"][0]) == PAYLOAD


def test_edits_by_path_reach_into_lists_and_leave_the_original_alone() -> None:
    assert without(PAYLOAD, "actions.0.value")["actions"] == [{"action_id": "plan_approve"}]
    assert with_value(PAYLOAD, "actions.0", 5)["actions"] == [5]
    assert without(PAYLOAD, "actions.0")["actions"] == []
    assert PAYLOAD["actions"] == [{"action_id": "plan_approve", "value": "42"}]


def test_paths_lists_parents_before_children() -> None:
    assert paths(PAYLOAD) == ["type", "actions", "actions.0", "actions.0.action_id", "actions.0.value"]
