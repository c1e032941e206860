import io
import json
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.playground.slack.files import UploadedFile
from bot.playground.slack.web_api import FakeSlack

OPS = "C0123OPSCHN"
LOG = "step 3: kubectl rollout status\ndeployment/api successfully rolled out\n"


async def open_ticket(client: AsyncWebClient, length: int) -> tuple[str, str]:
    ticket = await client.files_getUploadURLExternal(filename="step-3.log", length=length)
    return ticket["upload_url"], ticket["file_id"]


async def post_bytes(url: str, **body: Any) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.post(url, **body) as response:
        return response.status, await response.text()


async def test_files_upload_v2_shares_the_output_in_the_thread(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    parent = await client.chat_postMessage(channel=OPS, text="Plan 42")

    uploaded = await client.files_upload_v2(
        channel=OPS,
        thread_ts=parent["ts"],
        content=LOG,
        filename="step-3.log",
        title="Step 3 output",
        initial_comment="Full output of step 3",
    )
    thread = await client.conversations_replies(channel=OPS, ts=parent["ts"])

    file_id = uploaded["file"]["id"]
    reply = thread["messages"][1]
    assert file_id.startswith("F0")
    assert uploaded["file"]["title"] == "Step 3 output"
    assert uploaded["file"]["shares"] == {}
    assert reply["text"] == "Full output of step 3"
    assert reply["thread_ts"] == parent["ts"]
    assert [(f["id"], f["name"], f["size"]) for f in reply["files"]] == [(file_id, "step-3.log", len(LOG))]
    assert reply["files"][0]["shares"]["public"][OPS][0]["thread_ts"] == parent["ts"]
    assert slack.uploaded_files == [
        UploadedFile(
            id=file_id,
            name="step-3.log",
            title="Step 3 output",
            content=LOG.encode(),
            channel=OPS,
            thread_ts=parent["ts"],
            message_ts=reply["ts"],
            initial_comment="Full output of step 3",
        )
    ]
    assert slack.calls_to("files.getUploadURLExternal")[0].args == {
        "filename": "step-3.log",
        "length": str(len(LOG)),
    }
    assert slack.violations == []


async def test_upload_url_takes_multipart_bytes_and_answers_ok_with_the_length(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    url, file_id = await open_ticket(client, length=len(LOG))
    form = aiohttp.FormData()
    form.add_field("filename", LOG.encode(), filename="step-3.log")

    answer = await post_bytes(url, data=form)
    completed = await client.files_completeUploadExternal(files=[{"id": file_id}])

    assert url.startswith(f"{slack.base_url}/upload/v1/")
    assert answer == (200, f"OK - {len(LOG)}")
    assert completed["files"][0]["title"] == "step-3.log"
    assert [(f.content, f.channel, f.message_ts) for f in slack.uploaded_files] == [
        (LOG.encode(), None, None)
    ]
    assert slack.messages[OPS] == {}


async def test_uploads_over_aiohttps_default_body_limit_arrive_whole(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    content = bytes(range(256)) * 8192
    url, file_id = await open_ticket(client, length=len(content))

    # A stream, not bytes: aiohttp warns (an error under pytest) about raw bodies over 1 MiB.
    answer = await post_bytes(url, data=io.BytesIO(content))
    await client.files_completeUploadExternal(files=[{"id": file_id}], channel_id=OPS)

    assert answer == (200, "OK - 2097152")
    assert [f.content == content for f in slack.uploaded_files] == [True]


async def test_a_file_shared_in_two_channels_appears_once_per_channel(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.add_channel("C0123INCIDT", "incidents")

    await client.files_upload_v2(channels=[OPS, "C0123INCIDT"], content="x", filename="a.txt")

    assert [f.channel for f in slack.uploaded_files] == [OPS, "C0123INCIDT"]
    assert all(len(slack.messages[c]) == 1 for c in (OPS, "C0123INCIDT"))


async def test_bytes_that_differ_from_the_declared_length_fail_like_files_slack_com(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    url, file_id = await open_ticket(client, length=10)

    answer = await post_bytes(url, data=b"short")
    with pytest.raises(SlackApiError) as raised:
        await client.files_completeUploadExternal(files=[{"id": file_id, "title": "out"}], channel_id=OPS)

    problem = "5 bytes arrived, files.getUploadURLExternal declared length 10"
    assert answer == (500, "internal error: s3_upload")
    assert raised.value.response["error"] == "file_not_found"
    assert slack.violations == [f"{url.removeprefix(slack.base_url)}: {problem}"]
    assert slack.uploaded_files == []


async def test_a_completed_upload_url_takes_no_more_bytes(slack: FakeSlack, client: AsyncWebClient) -> None:
    url, file_id = await open_ticket(client, length=1)
    await post_bytes(url, data=b"x")
    await client.files_completeUploadExternal(files=[{"id": file_id}])

    answer = await post_bytes(url, data=b"y")

    assert answer == (404, "Not Found")
    assert slack.violations == [f"{url.removeprefix(slack.base_url)}: no open upload ticket at this URL"]
    assert [f.content for f in slack.uploaded_files] == [b"x"]


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("unknown id", "file_not_found"),
        ("bytes never sent", "file_not_found"),
        ("completed twice", "file_not_found"),
    ],
)
async def test_completing_a_file_without_its_bytes_is_file_not_found(
    slack: FakeSlack, client: AsyncWebClient, case: str, error: str
) -> None:
    url, file_id = await open_ticket(client, length=1)
    if case == "unknown id":
        file_id = "F0999999999"
    if case != "bytes never sent":
        await post_bytes(url, data=b"x")
    if case == "completed twice":
        await client.files_completeUploadExternal(files=[{"id": file_id}])

    with pytest.raises(SlackApiError) as raised:
        await client.files_completeUploadExternal(files=[{"id": file_id}], channel_id=OPS)

    assert raised.value.response["error"] == error
    assert slack.messages[OPS] == {}
    assert slack.violations == []


@pytest.mark.parametrize(
    ("share", "error", "explained"),
    [
        ({"channel_id": "C0123NOWHER"}, "channel_not_found", None),
        ({"channel_id": "C0123NOTBOT"}, "not_in_channel", None),
        ({"channel_id": "U0123ALICE1"}, "invalid_arguments", "[json-pointer:/channel_id]"),
        (
            {"channels": f"{OPS},D0123HOMEDM", "thread_ts": "1767225600.000100"},
            "invalid_arguments",
            "thread_ts needs exactly one channel",
        ),
    ],
)
async def test_a_refused_share_leaves_the_upload_open(
    slack: FakeSlack, client: AsyncWebClient, share: dict[str, str], error: str, explained: str | None
) -> None:
    slack.add_channel("C0123NOTBOT", members=["U0123ALICE1"])
    url, file_id = await open_ticket(client, length=1)
    await post_bytes(url, data=b"x")

    with pytest.raises(SlackApiError) as raised:
        files = json.dumps([{"id": file_id}])
        await client.api_call("files.completeUploadExternal", params={"files": files, **share})
    retried = await client.files_completeUploadExternal(files=[{"id": file_id}], channel_id=OPS)

    messages = raised.value.response.get("response_metadata", {}).get("messages", [])
    assert raised.value.response["error"] == error
    assert any(explained in m for m in messages) if explained else messages == []
    assert retried["files"][0]["id"] == file_id
    assert [f.channel for f in slack.uploaded_files] == [OPS]


async def test_blocks_are_ignored_when_there_is_an_initial_comment(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*output*"}}]
    for comment in ("see the file", None):
        url, file_id = await open_ticket(client, length=1)
        await post_bytes(url, data=b"x")
        await client.files_completeUploadExternal(
            # slack_sdk passes blocks through as they are, so they must already be a JSON string.
            files=[{"id": file_id}],
            channel_id=OPS,
            initial_comment=comment,
            blocks=json.dumps(blocks),
        )

    assert [(m["text"], m.get("blocks")) for m in slack.messages[OPS].values()] == [
        ("see the file", None),
        ("", blocks),
    ]
    assert slack.violations == []


@pytest.mark.parametrize(
    ("params", "error", "violation"),
    [
        ({"filename": "out.log"}, "invalid_arguments", "missing required field: length"),
        ({"filename": "out.log", "length": "0"}, "missing_argument", None),
        ({"filename": "out.log", "length": "ten"}, "invalid_arguments", None),
        ({"filename": "out.log", "length": "5", "alt_txt": "a" * 1001}, "alt_txt_too_large", None),
        ({"filename": "a.py", "length": str(2**20 + 1), "snippet_type": "python"}, "snippet_too_large", None),
    ],
)
async def test_upload_url_requests_are_checked(
    slack: FakeSlack, client: AsyncWebClient, params: dict[str, str], error: str, violation: str | None
) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.api_call("files.getUploadURLExternal", params=params)

    assert raised.value.response["error"] == error
    assert any(violation in v for v in slack.violations) if violation else slack.violations == []
    assert slack.workspace.uploads == {}


async def test_a_json_body_to_get_upload_url_is_a_violation(slack: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.api_call("files.getUploadURLExternal", json={"filename": "out.log", "length": 3})

    assert raised.value.response["error"] == "invalid_arguments"
    assert (
        "files.getUploadURLExternal: sent a JSON body, which Slack ignores for this method"
        in slack.violations
    )


async def test_files_upload_v2_reports_an_injected_failure(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail_next("files.getUploadURLExternal", "file_uploads_disabled", status=200)

    with pytest.raises(SlackApiError) as raised:
        await client.files_upload_v2(channel=OPS, content="x", filename="a.txt")

    assert raised.value.response["error"] == "file_uploads_disabled"
    assert slack.calls_to("files.completeUploadExternal") == []
