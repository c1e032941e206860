"""The fake Slack's Web API methods: one function per method in the specs, over a Workspace.

Each handler gets arguments that already passed the methods.json and Block Kit checks, and
returns the success body without `ok` (or raises `SlackError`). Shapes follow Slack's answers.
"""

import base64
import re
import secrets
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.playground.slack.files import completable_uploads, file_object, open_upload
from bot.playground.slack.specs import load_spec
from bot.playground.slack.state import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    CHANNEL_KINDS,
    TEAM_DOMAIN,
    TEAM_ID,
    Channel,
    FileShare,
    Hook,
    SlackError,
    Upload,
    Workspace,
)

Args = dict[str, Any]
Handler = Callable[[Workspace, Args], dict[str, Any]]

_MESSAGE_FIELDS = ("blocks", "attachments", "metadata", "thread_ts")
# What Slack shows as the title of a Home tab view, which has none of its own.
_HOME_TITLE = {"type": "plain_text", "text": "View Title", "emoji": True}
# files.completeUploadExternal's check on channel_id (its invalid_arguments message quotes it).
_SHARE_CHANNEL_ID = re.compile(r"^[CGDZ][A-Z0-9]{8,}$")
# conversations.create: lower-case letters, digits, hyphens and underscores, at most 80 of them.
_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]+$")
_CHANNEL_NAME_MAX = 80
_INVITE_MAX = 1000


def apply_response(workspace: Workspace, hook: Hook, body: Args) -> None:
    """What a response_url post does to the conversation, as Slack applies it."""
    messages = workspace.messages.get(hook.channel or "", {})
    original = messages.get(hook.message_ts or "")
    if original is not None and _truthy(body.get("delete_original")):
        del messages[original["ts"]]
    elif original is not None and _truthy(body.get("replace_original")):
        # Unlike chat.update, a replacement drops whatever content it does not repeat.
        for key in ("blocks", "attachments"):
            original.pop(key, None)
        _edit(original, body)
    elif hook.channel is not None and body.get("response_type") == "in_channel":
        workspace.store_message(hook.channel, _bot_message(body))


# -- chat ---------------------------------------------------------------------------------------


def post_message(workspace: Workspace, args: Args) -> dict[str, Any]:
    channel = _member_channel(workspace, args["channel"])
    message = workspace.store_message(channel.id, _bot_message(args))
    return {"channel": channel.id, "ts": message["ts"], "message": message}


def update_message(workspace: Workspace, args: Args) -> dict[str, Any]:
    message = _own_message(workspace, args["channel"], args["ts"], "cant_update_message")
    _edit(message, args)
    channel_id = workspace.channel(args["channel"]).id
    return {"channel": channel_id, "ts": message["ts"], "text": message["text"], "message": message}


def get_permalink(workspace: Workspace, args: Args) -> dict[str, Any]:
    channel = workspace.channel(args["channel"])
    message = workspace.message(channel.id, args["message_ts"])
    link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel.id}/p{message['ts'].replace('.', '')}"
    parent = message.get("thread_ts", message["ts"])
    if parent != message["ts"]:
        link += f"?thread_ts={parent}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}


def post_ephemeral(workspace: Workspace, args: Args) -> dict[str, Any]:
    channel = _member_channel(workspace, args["channel"])
    if args["user"] not in channel.members:
        raise SlackError("user_not_in_channel")
    return {"message_ts": workspace.next_ts()}


def delete_message(workspace: Workspace, args: Args) -> dict[str, Any]:
    message = _own_message(workspace, args["channel"], args["ts"], "cant_delete_message")
    channel_id = workspace.channel(args["channel"]).id
    del workspace.messages[channel_id][message["ts"]]
    return {"channel": channel_id, "ts": message["ts"]}


# -- views --------------------------------------------------------------------------------------


def open_view(workspace: Workspace, args: Args) -> dict[str, Any]:
    _exchange_trigger(workspace, args)
    view = _view_from(workspace, args["view"], "modal", view_id=f"V0{workspace.next_id():09d}")
    workspace.views[view["id"]] = view
    return {"view": view}


def update_view(workspace: Workspace, args: Args) -> dict[str, Any]:
    current = _find_view(workspace, args)
    if args.get("hash") and args["hash"] != current["hash"]:
        raise SlackError("hash_conflict")
    view = _view_from(workspace, args["view"], current["type"], view_id=current["id"])
    view["root_view_id"] = current["root_view_id"]
    workspace.views[view["id"]] = view
    for user_id, home in workspace.home_views.items():
        if home["id"] == view["id"]:
            workspace.home_views[user_id] = view
    return {"view": view}


def publish_view(workspace: Workspace, args: Args) -> dict[str, Any]:
    current = workspace.home_views.get(args["user_id"])
    if current is not None and args.get("hash") and args["hash"] != current["hash"]:
        raise SlackError("hash_conflict")
    view_id = current["id"] if current else f"V0{workspace.next_id():09d}"
    view = _view_from(workspace, args["view"], "home", view_id=view_id)
    workspace.views[view_id] = workspace.home_views[args["user_id"]] = view
    return {"view": view}


# -- reactions ----------------------------------------------------------------------------------


def add_reaction(workspace: Workspace, args: Args) -> dict[str, Any]:
    message = workspace.message(args["channel"], args["timestamp"])
    reactions: list[dict[str, Any]] = message.setdefault("reactions", [])
    reaction = next((r for r in reactions if r["name"] == args["name"]), None)
    if reaction is None:
        reactions.append({"name": args["name"], "users": [BOT_USER_ID], "count": 1})
    elif BOT_USER_ID in reaction["users"]:
        raise SlackError("already_reacted")
    else:
        reaction["users"].append(BOT_USER_ID)
        reaction["count"] += 1
    return {}


def remove_reaction(workspace: Workspace, args: Args) -> dict[str, Any]:
    if not (args.get("channel") and args.get("timestamp")):
        raise SlackError("no_item_specified")
    message = workspace.message(args["channel"], args["timestamp"])
    reactions = message.get("reactions", [])
    reaction = next((r for r in reactions if r["name"] == args["name"]), None)
    if reaction is None or BOT_USER_ID not in reaction["users"]:
        raise SlackError("no_reaction")
    reaction["users"].remove(BOT_USER_ID)
    reaction["count"] -= 1
    message["reactions"] = [r for r in reactions if r["count"]]
    return {}


# -- conversations ------------------------------------------------------------------------------


def read_history(workspace: Workspace, args: Args) -> dict[str, Any]:
    channel = workspace.channel(args["channel"])
    messages = workspace.messages[channel.id].values()
    top_level = [m for m in messages if m.get("thread_ts", m["ts"]) == m["ts"]]
    page, meta = _page(_in_window(top_level, args)[::-1], args)
    return {"messages": page, "pin_count": 0, **meta}


def read_replies(workspace: Workspace, args: Args) -> dict[str, Any]:
    channel = workspace.channel(args["channel"])
    try:
        message = workspace.message(channel.id, args["ts"])
    except SlackError:
        raise SlackError("thread_not_found") from None
    root = message.get("thread_ts", message["ts"])
    thread = [m for m in workspace.messages[channel.id].values() if root in (m["ts"], m.get("thread_ts"))]
    page, meta = _page(_in_window(thread, args), args)
    return {"messages": page, **meta}


def describe_channel(workspace: Workspace, args: Args) -> dict[str, Any]:
    return {"channel": workspace.channel(args["channel"]).to_api()}


def list_channels(workspace: Workspace, args: Args) -> dict[str, Any]:
    kinds = str(args.get("types") or "public_channel").split(",")
    if not set(kinds) <= set(CHANNEL_KINDS):
        raise SlackError("invalid_types")
    channels = [c.to_api() for c in workspace.channels.values() if c.kind in kinds]
    page, meta = _page(channels, args)
    return {"channels": page, "response_metadata": meta["response_metadata"]}


def list_members(workspace: Workspace, args: Args) -> dict[str, Any]:
    page, meta = _page(workspace.channel(args["channel"]).members, args)
    return {"members": page, "response_metadata": meta["response_metadata"]}


def open_conversation(workspace: Workspace, args: Args) -> dict[str, Any]:
    if args.get("channel"):
        channel, existed = workspace.channel(args["channel"]), True
    else:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            raise SlackError("users_list_not_supplied")
        known = set(workspace.channels)
        channel = workspace.open_dm(users)
        existed = channel.id in known
    body = channel.to_api() if _truthy(args.get("return_im")) else {"id": channel.id}
    flags = {"no_op": True, "already_open": True} if existed else {}
    return {"channel": body, **flags}


def join_channel(workspace: Workspace, args: Args) -> dict[str, Any]:
    channel = workspace.channel(args["channel"])
    if channel.kind not in ("public_channel", "private_channel"):
        raise SlackError("method_not_supported_for_channel_type")
    if BOT_USER_ID in channel.members:
        warning = "already_in_channel"
        return {"channel": channel.to_api(), "warning": warning, "response_metadata": {"warnings": [warning]}}
    channel.members.append(BOT_USER_ID)
    return {"channel": channel.to_api()}


def create_channel(workspace: Workspace, args: Args) -> dict[str, Any]:
    name = str(args["name"])
    if len(name) > _CHANNEL_NAME_MAX:
        raise SlackError("invalid_name_maxlength")
    if not _CHANNEL_NAME.fullmatch(name):
        raise SlackError("invalid_name_specials")
    if any(channel.name == name for channel in workspace.channels.values()):
        raise SlackError("name_taken")
    kind = "private_channel" if _truthy(args.get("is_private")) else "public_channel"
    channel = workspace.add_channel(f"C0{workspace.next_id():09d}", name, members=[BOT_USER_ID], kind=kind)
    return {"channel": channel.to_api()}


def invite_to_channel(workspace: Workspace, args: Args) -> dict[str, Any]:
    channel = _member_channel(workspace, args["channel"])
    if channel.kind not in ("public_channel", "private_channel"):
        raise SlackError("method_not_supported_for_channel_type")
    users = [u for u in str(args["users"]).split(",") if u]
    if not users:
        raise SlackError("no_user")
    if len(users) > _INVITE_MAX:
        raise SlackError("too_many_users")
    for user_id in users:
        if user_id == BOT_USER_ID:
            raise SlackError("cant_invite_self")
        if user_id not in workspace.users:
            raise SlackError("user_not_found")
        if user_id in channel.members:
            raise SlackError("already_in_channel")
    channel.members.extend(users)
    return {"channel": channel.to_api()}


# -- files ----------------------------------------------------------------------------------------


def get_upload_url(workspace: Workspace, args: Args) -> dict[str, Any]:
    upload = open_upload(workspace, args)
    return {"upload_url": workspace.base_url + upload.path, "file_id": upload.id}


def complete_upload(workspace: Workspace, args: Args) -> dict[str, Any]:
    """Complete every named upload, then share them in one message per channel, as Slack does.

    The answer is rendered before the sharing: Slack shares asynchronously, so its answer's file
    objects carry no channels or shares yet.
    """
    titled = completable_uploads(workspace, args["files"])
    channels = _share_channels(workspace, args)
    for upload, title in titled:
        upload.completed, upload.title = True, title
        upload.initial_comment = args.get("initial_comment")
    uploads = [upload for upload, _ in titled]
    answer = {"files": [file_object(workspace, upload) for upload in uploads]}
    messages = [_share(workspace, channel, args, uploads) for channel in channels]
    for message in messages:
        message["files"] = [file_object(workspace, upload) for upload in uploads]
    return answer


# -- user groups --------------------------------------------------------------------------------


def list_usergroup_users(workspace: Workspace, args: Args) -> dict[str, Any]:
    group = workspace.usergroups.get(args["usergroup"])
    if group is None or not (group.enabled or _truthy(args.get("include_disabled"))):
        raise SlackError("no_such_subteam")
    return {"users": list(group.users)}


# -- users and auth -----------------------------------------------------------------------------


def find_user_by_email(workspace: Workspace, args: Args) -> dict[str, Any]:
    for user in workspace.users.values():
        profile = user.to_api()["profile"]
        if profile["email"] and profile["email"].lower() == str(args["email"]).lower():
            return {"user": user.to_api()}
    raise SlackError("users_not_found")


def describe_user(workspace: Workspace, args: Args) -> dict[str, Any]:
    user = workspace.users.get(args["user"])
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user.to_api()}


def identify_token(workspace: Workspace, args: Args) -> dict[str, Any]:
    return {
        "url": f"https://{TEAM_DOMAIN}.slack.com/",
        "team": TEAM_DOMAIN,
        "user": BOT_NAME,
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


def open_socket_connection(workspace: Workspace, args: Args) -> dict[str, Any]:
    """A one-use Socket Mode URL on this fake (bot/playground/slack/socket_mode.py serves it)."""
    ticket = f"{workspace.next_id():08x}-{secrets.token_hex(8)}"
    workspace.socket_tickets.add(ticket)
    return {"url": f"ws{workspace.base_url.removeprefix('http')}/link/?ticket={ticket}&app_id={APP_ID}"}


HANDLERS: dict[str, Handler] = {
    "chat.postMessage": post_message,
    "chat.update": update_message,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
    "chat.delete": delete_message,
    "views.publish": publish_view,
    "views.open": open_view,
    "views.update": update_view,
    "views.push": open_view,
    "reactions.add": add_reaction,
    "reactions.remove": remove_reaction,
    "conversations.history": read_history,
    "conversations.replies": read_replies,
    "conversations.info": describe_channel,
    "conversations.list": list_channels,
    "conversations.members": list_members,
    "conversations.open": open_conversation,
    "conversations.join": join_channel,
    "conversations.create": create_channel,
    "conversations.invite": invite_to_channel,
    "users.info": describe_user,
    "users.lookupByEmail": find_user_by_email,
    "auth.test": identify_token,
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
    "usergroups.users.list": list_usergroup_users,
    "apps.connections.open": open_socket_connection,
}


# -- helpers ------------------------------------------------------------------------------------


def _bot_message(args: Args) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "team": TEAM_ID,
        "text": args.get("text") or args.get("markdown_text") or "",
    }
    message.update({key: args[key] for key in _MESSAGE_FIELDS if args.get(key) is not None})
    return message


def _edit(message: dict[str, Any], args: Args) -> None:
    # Like chat.update: blocks/attachments left out of the call stay as they were.
    text = args.get("text") or args.get("markdown_text")
    if text is not None:
        message["text"] = text
    message.update({key: args[key] for key in ("blocks", "attachments", "metadata") if key in args})


def _member_channel(workspace: Workspace, channel_id: str) -> Channel:
    channel = workspace.channel(channel_id)
    if BOT_USER_ID not in channel.members:
        raise SlackError("not_in_channel")
    return channel


def _share_channels(workspace: Workspace, args: Args) -> list[Channel]:
    channel_id = args.get("channel_id")
    if channel_id and not _SHARE_CHANNEL_ID.fullmatch(channel_id):
        pattern = f"input must match regex pattern: {_SHARE_CHANNEL_ID.pattern} [json-pointer:/channel_id]"
        raise SlackError("invalid_arguments", messages=[pattern])
    listed = [c for c in str(args.get("channels") or "").split(",") if c]
    channels = {c.id: c for c in (_member_channel(workspace, i) for i in [channel_id or "", *listed] if i)}
    if args.get("thread_ts") and len(channels) != 1:
        raise SlackError("invalid_arguments", messages=["thread_ts needs exactly one channel"])
    return list(channels.values())


def _share(workspace: Workspace, channel: Channel, args: Args, uploads: list[Upload]) -> dict[str, Any]:
    # Slack ignores blocks when there is an initial_comment.
    comment = args.get("initial_comment")
    content = {"text": comment or "", "thread_ts": args.get("thread_ts")}
    if not comment and args.get("blocks") is not None:
        content["blocks"] = args["blocks"]
    message = workspace.store_message(
        channel.id, {**_bot_message(content), "upload": True, "display_as_bot": False}
    )
    for upload in uploads:
        upload.shares.append(FileShare(channel.id, message["ts"], args.get("thread_ts")))
    return message


def _own_message(workspace: Workspace, channel_id: str, ts: str, error: str) -> dict[str, Any]:
    message = workspace.message(channel_id, ts)
    if message.get("bot_id") != BOT_ID:
        raise SlackError(error)
    return message


def _exchange_trigger(workspace: Workspace, args: Args) -> None:
    valid_seconds = load_spec("limits.json")["timing"]["trigger_id_valid_seconds"]
    pointer = args.get("trigger_id") or args["interactivity_pointer"]
    workspace.exchange_trigger_id(pointer, valid_seconds)


def _find_view(workspace: Workspace, args: Args) -> dict[str, Any]:
    if args.get("view_id"):
        view = workspace.views.get(args["view_id"])
    else:
        view = next((v for v in workspace.views.values() if v["external_id"] == args["external_id"]), None)
    if view is None:
        raise SlackError("not_found")
    return view


def _view_from(workspace: Workspace, given: dict[str, Any], kind: str, *, view_id: str) -> dict[str, Any]:
    if given.get("type") != kind:
        raise SlackError("invalid_arguments", messages=[f"view.type must be {kind}"])
    external_id = given.get("external_id", "")
    others = (v for v in workspace.views.values() if v["id"] != view_id)
    if external_id and any(v["external_id"] == external_id for v in others):
        raise SlackError("duplicate_external_id")
    view = {
        "id": view_id,
        "team_id": TEAM_ID,
        "type": kind,
        "blocks": given.get("blocks", []),
        "private_metadata": given.get("private_metadata", ""),
        "callback_id": given.get("callback_id", ""),
        "state": {"values": {}},
        "hash": f"{workspace.next_ts()}.{workspace.next_id():08x}",
        "clear_on_close": given.get("clear_on_close", False),
        "notify_on_close": given.get("notify_on_close", False),
        "previous_view_id": None,
        "root_view_id": view_id,
        "app_id": APP_ID,
        "external_id": external_id,
        "app_installed_team_id": TEAM_ID,
        "bot_id": BOT_ID,
    }
    view.update(title=given.get("title", _HOME_TITLE), submit=given.get("submit"), close=given.get("close"))
    return view


def _in_window(messages: list[dict[str, Any]], args: Args) -> list[dict[str, Any]]:
    inclusive = _truthy(args.get("inclusive"))
    oldest = _ts_bound(args.get("oldest") or "0", "invalid_ts_oldest")
    latest = _ts_bound(args.get("latest") or "Infinity", "invalid_ts_latest")

    def inside(ts: Decimal) -> bool:
        return oldest <= ts <= latest if inclusive else oldest < ts < latest

    return [m for m in messages if inside(Decimal(m["ts"]))]


def _ts_bound(value: str, error: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise SlackError(error) from None


def _page(items: list[Any], args: Args) -> tuple[list[Any], dict[str, Any]]:
    try:
        limit = int(args.get("limit") or 100)
    except ValueError:
        raise SlackError("invalid_limit") from None
    try:
        offset = int(base64.b64decode(args["cursor"]).split(b":")[1]) if args.get("cursor") else 0
    except (ValueError, IndexError):
        raise SlackError("invalid_cursor") from None
    end = offset + max(limit, 1)
    cursor = base64.b64encode(f"next:{end}".encode()).decode() if end < len(items) else ""
    return items[offset:end], {"has_more": bool(cursor), "response_metadata": {"next_cursor": cursor}}


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")
