import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.playground.slack.methods import HANDLERS
from bot.playground.slack.oauth import CLIENT_AUTHENTICATED
from bot.playground.slack.specs import EXTRA_METHODS, SPECS_ENV_VAR, load_spec, method_specs
from bot.playground.slack.web_api import FakeSlack

OPS = "C0123OPSCHN"
PLAN_BLOCKS = [
    {"type": "section", "block_id": "plan_summary", "text": {"type": "mrkdwn", "text": "*Plan 42*"}},
    {
        "type": "actions",
        "block_id": "plan_actions",
        "elements": [
            {
                "type": "button",
                "action_id": "plan_approve",
                "value": "42",
                "text": {"type": "plain_text", "text": "Approve"},
            }
        ],
    },
]
MODAL = {
    "type": "modal",
    "callback_id": "plan_reject",
    "title": {"type": "plain_text", "text": "Reject plan"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Reject *plan 42*"}}],
}


async def error_of(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        await call
    return raised.value


async def test_post_message_then_update_edits_the_stored_message(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel=OPS, text="Plan 42", blocks=PLAN_BLOCKS)
    new_blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Plan 42* approved"}}]
    updated = await client.chat_update(channel=OPS, ts=posted["ts"], text="approved", blocks=new_blocks)

    assert posted["channel"] == OPS
    assert posted["message"]["blocks"] == PLAN_BLOCKS
    assert updated["ts"] == posted["ts"]
    assert updated["text"] == "approved"
    stored = slack.messages[OPS][posted["ts"]]
    assert stored["blocks"] == new_blocks
    assert stored["text"] == "approved"
    assert slack.calls_to("chat.update")[0].args["blocks"] == new_blocks
    assert slack.violations == []


async def test_permalinks_name_the_message_and_its_thread_as_slack_spells_them(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    parent = await client.chat_postMessage(channel=OPS, text="Plan 42")
    reply = await client.chat_postMessage(channel=OPS, text="done", thread_ts=parent["ts"])

    top = await client.chat_getPermalink(channel=OPS, message_ts=parent["ts"])
    nested = await client.chat_getPermalink(channel=OPS, message_ts=reply["ts"])
    missing = await error_of(client.chat_getPermalink(channel=OPS, message_ts="1.000000"))

    assert top["permalink"] == f"https://acme-sre.slack.com/archives/{OPS}/p1767225600000100"
    assert nested["permalink"].endswith(f"/p1767225600000200?thread_ts={parent['ts']}&cid={OPS}")
    assert top["channel"] == OPS
    assert missing.response["error"] == "message_not_found"
    assert slack.calls_to("chat.getPermalink")[0].http_method == "GET"
    assert slack.violations == []


async def test_message_ts_values_are_unique_and_increasing(client: AsyncWebClient) -> None:
    stamps = [(await client.chat_postMessage(channel=OPS, text=str(i)))["ts"] for i in range(3)]

    assert stamps[0] == "1767225600.000100"
    assert stamps == sorted(set(stamps))


async def test_thread_replies_are_listed_under_their_parent(slack: FakeSlack, client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel=OPS, text="Plan 42")
    for step in ("step 1 done", "step 2 done"):
        await client.chat_postMessage(channel=OPS, text=step, thread_ts=parent["ts"])

    first = await client.conversations_replies(channel=OPS, ts=parent["ts"], limit=2)
    rest = await client.conversations_replies(
        channel=OPS, ts=parent["ts"], cursor=first["response_metadata"]["next_cursor"]
    )

    assert [m["text"] for m in first["messages"] + rest["messages"]] == [
        "Plan 42",
        "step 1 done",
        "step 2 done",
    ]
    assert first["has_more"] and not rest["has_more"]
    assert slack.messages[OPS][parent["ts"]]["reply_count"] == 2


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.chat_postMessage(channel="C9999NOWHERE", text="hi"), "channel_not_found"),
        (lambda c: c.chat_update(channel=OPS, ts="1767225600.999999", text="hi"), "message_not_found"),
        (
            lambda c: c.chat_update(channel="C9999NOWHERE", ts="1767225600.000100", text="x"),
            "channel_not_found",
        ),
        (lambda c: c.users_info(user="U9999NOBODY"), "user_not_found"),
        (lambda c: c.views_open(trigger_id="123.456.abc", view=MODAL), "invalid_trigger_id"),
    ],
)
async def test_runtime_errors_are_answered_without_violations(
    slack: FakeSlack, client: AsyncWebClient, call: Any, error: str
) -> None:
    raised = await error_of(call(client))

    assert raised.response["error"] == error
    assert slack.violations == []


async def test_posting_where_the_bot_is_not_a_member_needs_a_join(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.add_channel("C0123PRIVAT", members=["U0123ALICE1"])

    refused = await error_of(client.chat_postMessage(channel="C0123PRIVAT", text="hi"))
    await client.conversations_join(channel="C0123PRIVAT")
    posted = await client.chat_postMessage(channel="C0123PRIVAT", text="hi")

    assert refused.response["error"] == "not_in_channel"
    assert posted["ok"]


@pytest.mark.parametrize(
    ("method", "args", "error", "violation"),
    [
        ("chat.update", {"channel": OPS, "text": "x"}, "invalid_arguments", "missing required field: ts"),
        ("chat.postMessage", {"channel": OPS}, "no_text", "one of attachments, blocks, markdown_text, text"),
        (
            "chat.postMessage",
            {"channel": OPS, "text": "a", "markdown_text": "b"},
            "markdown_text_conflict",
            "only one of markdown_text, text may be given",
        ),
        (
            "views.open",
            {"view": {"type": "modal"}},
            "invalid_arguments",
            "one of interactivity_pointer, trigger_id",
        ),
        ("views.update", {"view": {"type": "modal"}}, "invalid_arguments", "one of external_id, view_id"),
        (
            "reactions.add",
            {"channel": OPS, "name": "eyes"},
            "invalid_arguments",
            "missing required field: timestamp",
        ),
    ],
)
async def test_missing_arguments_are_rejected_and_recorded(
    slack: FakeSlack, client: AsyncWebClient, method: str, args: dict[str, Any], error: str, violation: str
) -> None:
    raised = await error_of(client.api_call(method, json=args))

    assert raised.response["error"] == error
    assert any(violation in v for v in slack.violations), slack.violations
    assert raised.response["response_metadata"]["messages"][0].startswith("[ERROR] ")


async def test_over_limit_blocks_are_rejected_as_invalid_blocks(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}

    raised = await error_of(client.chat_postMessage(channel=OPS, text="plan", blocks=[header]))

    assert raised.response["error"] == "invalid_blocks"
    assert slack.violations == [
        "chat.postMessage: invalid_blocks: blocks[0].text.text: has 151 characters, max 150"
    ]
    assert slack.messages[OPS] == {}


async def test_over_limit_view_is_rejected_with_the_error_the_method_documents(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    view = {"type": "home", "blocks": [{"type": "divider"}] * 101}

    raised = await error_of(client.views_publish(user_id="U0123ALICE1", view=view))

    assert raised.response["error"] == "invalid_arguments"
    assert "view.blocks: has 101 items, must have 1 to 100" in slack.violations[0]


async def test_form_encoded_blocks_are_decoded_and_checked(slack: FakeSlack, client: AsyncWebClient) -> None:
    data = {"channel": OPS, "text": "plan", "blocks": json.dumps(PLAN_BLOCKS)}

    posted = await client.api_call("chat.postMessage", data=data)

    assert posted["message"]["blocks"] == PLAN_BLOCKS
    assert slack.calls[0].args["blocks"] == PLAN_BLOCKS
    assert slack.calls[0].headers["content-type"] == "application/x-www-form-urlencoded"


async def test_json_body_to_a_query_only_method_is_a_violation(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    raised = await error_of(client.api_call("conversations.replies", json={"channel": OPS, "ts": "1.2"}))

    assert raised.response["error"] == "invalid_arguments"
    assert "conversations.replies: sent a JSON body, which Slack ignores for this method" in slack.violations


async def test_unknown_argument_is_recorded_but_answered_like_slack(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel=OPS, text="hi")

    updated = await client.chat_update(channel=OPS, ts=posted["ts"], text="hi", thread_tss="1.2")

    assert updated["ok"]
    assert slack.violations == ["chat.update: unknown argument 'thread_tss' (not in methods.json all_args)"]


async def test_unknown_method_is_a_404_and_a_violation(slack: FakeSlack, client: AsyncWebClient) -> None:
    raised = await error_of(client.api_call("chat.postMesage", json={"channel": OPS}))

    assert raised.response.status_code == 404
    assert raised.response["error"] == "unknown_method"
    assert slack.violations == ["chat.postMesage: unknown method (not in methods.json)"]


@pytest.mark.parametrize(
    ("token", "error"),
    [(None, "not_authed"), ("xoxb-forged", "invalid_auth")],
)
async def test_calls_need_a_known_token(slack: FakeSlack, token: str | None, error: str) -> None:
    client = AsyncWebClient(token=token, base_url=slack.api_url)

    raised = await error_of(client.auth_test())

    assert raised.response["error"] == error


async def test_token_may_come_as_a_form_field(slack: FakeSlack) -> None:
    client = AsyncWebClient(base_url=slack.api_url)

    identity = await client.api_call("auth.test", data={"token": "xoxb-test"})

    assert identity["user_id"] == "U0123BOTUSR"
    assert identity["bot_id"] == "B0123BOTID1"
    assert "token" not in slack.calls[0].args


async def test_rate_limit_answers_429_with_retry_after(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.rate_limit_next("chat.postMessage", retry_after=7)

    raised = await error_of(client.chat_postMessage(channel=OPS, text="hi"))

    assert raised.response.status_code == 429
    assert raised.response.headers["Retry-After"] == "7"
    assert raised.response.data == {"ok": False, "error": "ratelimited"}


async def test_retry_after_is_honoured_by_the_sdk_retry_handler(slack: FakeSlack) -> None:
    handler = AsyncRateLimitErrorRetryHandler(max_retry_count=1)
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[handler])
    slack.rate_limit_next("chat.update", retry_after=1)
    posted = await client.chat_postMessage(channel=OPS, text="plan")

    started = time.monotonic()
    updated = await client.chat_update(channel=OPS, ts=posted["ts"], text="approved")

    assert updated["ok"]
    assert time.monotonic() - started >= 1.0
    assert [call.status for call in slack.calls_to("chat.update")] == [429, 200]


async def test_fail_next_fails_the_given_number_of_calls(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail_next("auth.test", times=2)

    failures = [await error_of(client.auth_test()) for _ in range(2)]
    identity = await client.auth_test()

    assert [(f.response.status_code, f.response["error"]) for f in failures] == [(500, "internal_error")] * 2
    assert identity["team_id"] == "T0123ABCDEF"


async def test_injected_faults_mix_429_and_500_repeatably(slack: FakeSlack, client: AsyncWebClient) -> None:
    async def statuses(seed: int) -> list[int]:
        slack.inject_faults("users.info", rate=0.5, seed=seed)
        results = []
        for _ in range(30):
            try:
                await client.users_info(user="U0123ALICE1")
                results.append(200)
            except SlackApiError as error:
                results.append(error.response.status_code)
        return results

    first, second = await statuses(seed=7), await statuses(seed=7)

    assert first == second
    assert {200, 429, 500} == set(first)


def test_fault_injection_refuses_methods_outside_the_spec() -> None:
    with pytest.raises(ValueError, match=r"not a method in methods\.json"):
        FakeSlack().fail_next("files.upload")


async def test_response_url_posts_are_recorded_and_answered_ok(slack: FakeSlack) -> None:
    url = slack.response_url("actions")

    answer = await AsyncWebhookClient(url).send(text="Plan 42 approved", response_type="ephemeral")

    assert answer.status_code == 200
    assert json.loads(answer.body) == {"ok": True}
    assert slack.responses[0].body == {"text": "Plan 42 approved", "response_type": "ephemeral"}
    assert slack.responses[0].kind == "actions"
    assert slack.responses[0].url == url


@pytest.mark.parametrize(
    ("body", "expected_texts"),
    [
        ({"text": "approved", "replace_original": True}, ["approved"]),
        ({"delete_original": True}, []),
        ({"text": "for everyone", "response_type": "in_channel"}, ["Plan 42", "for everyone"]),
        ({"text": "only for you"}, ["Plan 42"]),
    ],
)
async def test_response_url_posts_act_on_the_original_message(
    slack: FakeSlack, client: AsyncWebClient, body: dict[str, Any], expected_texts: list[str]
) -> None:
    posted = await client.chat_postMessage(channel=OPS, text="Plan 42", blocks=PLAN_BLOCKS)
    url = slack.response_url("actions", channel=OPS, message_ts=posted["ts"])

    await AsyncWebhookClient(url).send_dict(body)

    assert [m["text"] for m in slack.messages[OPS].values()] == expected_texts


async def test_response_url_checks_blocks_and_misuse(slack: FakeSlack) -> None:
    url = slack.response_url()
    bad_blocks = [{"type": "section"}]

    async with aiohttp.ClientSession() as session:
        statuses = []
        for body in [{"text": "ok"}] * 4 + [{"text": "x", "blocks": bad_blocks}, {"text": "sixth"}]:
            async with session.post(url, json=body) as response:
                statuses.append(response.status)
        async with session.post(url.replace("/commands/", "/actions/"), json={"text": "x"}) as response:
            statuses.append(response.status)

    assert statuses == [200, 200, 200, 200, 400, 404, 404]
    assert [v.split(": ")[1] for v in slack.violations] == ["invalid_blocks", "used_url", "expired_url"]


async def test_wait_for_wakes_on_the_matching_call(slack: FakeSlack, client: AsyncWebClient) -> None:
    async with asyncio.TaskGroup() as tasks:
        waiter = tasks.create_task(slack.wait_for(lambda call: call.method == "chat.update", timeout=5))
        posted = await client.chat_postMessage(channel=OPS, text="plan")
        await client.chat_update(channel=OPS, ts=posted["ts"], text="approved")

    assert waiter.result().args["text"] == "approved"


async def test_wait_until_returns_the_state_it_waited_for(slack: FakeSlack, client: AsyncWebClient) -> None:
    async with asyncio.TaskGroup() as tasks:
        waiter = tasks.create_task(slack.wait_until(lambda: slack.messages[OPS], timeout=5))
        await client.chat_postMessage(channel=OPS, text="plan")

    assert [m["text"] for m in waiter.result().values()] == ["plan"]


async def test_wait_for_times_out_with_a_summary_of_the_calls(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    await client.auth_test()

    with pytest.raises(TimeoutError, match=r"recorded calls: \['auth.test -> ok'\]"):
        await slack.wait_for(lambda call: call.method == "chat.update", timeout=0.05)


async def test_wait_for_after_skips_earlier_calls(slack: FakeSlack, client: AsyncWebClient) -> None:
    await client.auth_test()
    seen = len(slack.calls)

    async with asyncio.TaskGroup() as tasks:
        waiter = tasks.create_task(slack.wait_for(lambda call: call.method == "auth.test", after=seen))
        await client.auth_test()

    assert waiter.result() is slack.calls[1]


async def test_views_open_accepts_an_issued_trigger_id_once(slack: FakeSlack, client: AsyncWebClient) -> None:
    trigger_id = slack.issue_trigger_id()

    opened = await client.views_open(trigger_id=trigger_id, view=MODAL)
    reused = await error_of(client.views_open(trigger_id=trigger_id, view=MODAL))
    updated = await client.views_update(view_id=opened["view"]["id"], view=MODAL, hash=opened["view"]["hash"])
    stale = await error_of(client.views_update(view_id=opened["view"]["id"], view=MODAL, hash="1.old"))

    assert opened["view"]["callback_id"] == "plan_reject"
    assert slack.views[opened["view"]["id"]] == updated["view"]
    assert reused.response["error"] == "exchanged_trigger_id"
    assert stale.response["error"] == "hash_conflict"
    assert slack.violations == []


async def test_views_open_refuses_a_trigger_id_older_than_three_seconds(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    trigger_id = slack.issue_trigger_id()
    slack.workspace.trigger_ids[trigger_id] -= 3.5

    raised = await error_of(client.views_open(trigger_id=trigger_id, view=MODAL))

    assert raised.response["error"] == "expired_trigger_id"


async def test_usergroups_users_list_answers_the_group_members(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.add_usergroup("S0123SREONC", handle="sre-oncall", users=["U0123ALICE1", "U0123BOBBY2"])

    listed = await client.usergroups_users_list(usergroup="S0123SREONC")

    assert listed.data == {"ok": True, "users": ["U0123ALICE1", "U0123BOBBY2"]}
    assert slack.calls_to("usergroups.users.list")[0].http_method == "GET"
    assert slack.violations == []


@pytest.mark.parametrize(
    ("usergroup", "include_disabled", "answer"),
    [
        ("S0123NOSUCH", None, "no_such_subteam"),
        ("S0123NOSUCH", True, "no_such_subteam"),
        ("S0123RETIRD", None, "no_such_subteam"),
        ("S0123RETIRD", False, "no_such_subteam"),
        ("S0123RETIRD", True, ["U0123BOBBY2"]),
    ],
)
async def test_usergroups_users_list_hides_unknown_and_disabled_groups(
    slack: FakeSlack, client: AsyncWebClient, usergroup: str, include_disabled: bool | None, answer: Any
) -> None:
    slack.add_usergroup("S0123RETIRD", handle="old-oncall", users=["U0123BOBBY2"], enabled=False)

    try:
        listed = (await client.usergroups_users_list(usergroup=usergroup, include_disabled=include_disabled))[
            "users"
        ]
    except SlackApiError as error:
        listed = error.response["error"]

    assert listed == answer
    assert slack.violations == []


def test_usergroups_take_only_known_users() -> None:
    with pytest.raises(ValueError, match=r"unknown users \['U0123NOBODY'\]"):
        FakeSlack().add_usergroup("S0123SREONC", handle="sre-oncall", users=["U0123ALICE1", "U0123NOBODY"])


def test_the_supplement_adds_methods_that_methods_json_lacks() -> None:
    shared = load_spec("methods.json")["methods"]
    specs = method_specs()

    added = {"files.getUploadURLExternal", "files.completeUploadExternal", "usergroups.users.list"}
    assert added.isdisjoint(shared)
    assert added <= set(specs)
    assert specs["files.getUploadURLExternal"].required == ("filename", "length")
    # oauth.v2.access is answered apart: the app's credentials authenticate it, not a token.
    assert set(specs) == set(HANDLERS) | CLIENT_AUTHENTICATED


def test_methods_json_wins_over_the_supplement(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    methods = load_spec("methods.json")
    extra = json.loads(EXTRA_METHODS.read_text(encoding="utf-8"))["methods"]["usergroups.users.list"]
    extra["docs_current"]["required"] = ["usergroup", "team_id"]
    methods["methods"]["usergroups.users.list"] = extra
    (tmp_path / "methods.json").write_text(json.dumps(methods), encoding="utf-8")
    monkeypatch.setenv(SPECS_ENV_VAR, str(tmp_path))

    assert method_specs()["usergroups.users.list"].required == ("usergroup", "team_id")
