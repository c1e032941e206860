"""A fake Slack Web API on loopback holding every call to the Slack specs (bot/playground/specs/slack) and
the Block Kit limits.

`async with FakeSlack() as slack:` serves `{slack.api_url}<method>` for the methods in
methods.json and its supplement (form, query or JSON arguments, as slack_sdk sends them), the
response_urls it hands out and the upload_urls of files.upload v2. It records every call in `calls`,
every response_url post in `responses` and completed uploads in `uploaded_files`. Anything
Slack would refuse as malformed (unknown method or argument, missing argument, broken blocks or
views, JSON to a method that ignores JSON, misuse of a response_url) is answered with Slack's
error and also appended to `violations`, which a test fixture turns into a failure.
"""

import asyncio
import contextlib
import json
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, NoReturn, Self, TypeVar

from aiohttp import web

from bot.playground.slack.blockkit import check_blocks, check_view, view_too_large
from bot.playground.slack.files import (
    UploadedFile,
    UploadRefused,
    read_upload_body,
    receive_upload,
    uploaded_files,
)
from bot.playground.slack.methods import HANDLERS, apply_response
from bot.playground.slack.oauth import CLIENT_AUTHENTICATED, OAuthApps, basic_credentials
from bot.playground.slack.socket_mode import SocketModeServer
from bot.playground.slack.specs import (
    MethodSpec,
    argument_problems,
    load_spec,
    method_specs,
    unknown_arguments,
)
from bot.playground.slack.state import (
    ALICE,
    TEAM_ID,
    Fault,
    FaultPlan,
    Hook,
    SlackError,
    User,
    Usergroup,
    Workspace,
)

DEFAULT_TOKEN = "xoxb-test"
DEFAULT_APP_TOKEN = "xapp-1-A0123CARAPL-1-test"
# Methods that take the app-level token (xapp-) instead of the bot's.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})

# Arguments that carry JSON; form bodies send them as JSON strings.
_JSON_ARGS = ("blocks", "attachments", "view", "metadata", "files")
# aiohttp refuses bodies over 1 MiB by default; uploads of long step output may be larger.
_MAX_BODY_BYTES = 64 * 1024 * 1024

T = TypeVar("T")


@dataclass(frozen=True)
class RecordedCall:
    """One Web API call: `args` without the token and with JSON arguments decoded, header names
    in lower case, and the HTTP status and body the fake answered."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    http_method: str
    status: int
    response: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.response.get("ok") is True


@dataclass(frozen=True)
class RecordedResponse:
    """A post to a response_url, as `respond()` sends it; `body` is its decoded JSON (None if not JSON)."""

    url: str
    kind: str
    body: Any
    headers: dict[str, str]
    status: int


class FakeSlack:
    def __init__(
        self, *, tokens: Iterable[str] = (DEFAULT_TOKEN,), app_tokens: Iterable[str] = (DEFAULT_APP_TOKEN,)
    ) -> None:
        self.workspace = Workspace.default()
        self.tokens = set(tokens)
        self.app_tokens = set(app_tokens)
        # The scopes the token was granted, sent as X-OAuth-Scopes; None sends no such header.
        self.scopes: list[str] | None = None
        # Apps installed through OAuth: add_app, then consent gives a code for oauth.v2.access.
        self.oauth = OAuthApps()
        self.calls: list[RecordedCall] = []
        self.responses: list[RecordedResponse] = []
        self.violations: list[str] = []
        self.base_url = ""
        self._specs = method_specs()
        self._faults = FaultPlan()
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        # Slack's end of Socket Mode, at the URLs apps.connections.open hands out.
        self.socket_mode = SocketModeServer(
            self.workspace, changed=self._notify, violate=self._violate_socket
        )
        mismatch = set(self._specs) ^ (set(HANDLERS) | CLIENT_AUTHENTICATED)
        if mismatch:
            raise RuntimeError(f"methods.json and the fake's handlers disagree on {sorted(mismatch)}")

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application(client_max_size=_MAX_BODY_BYTES)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/hooks/{kind}/{team}/{n}/{secret}", self._handle_hook)
        app.router.add_post("/upload/v1/{ticket}", self._handle_upload)
        app.router.add_get("/link/", self.socket_mode.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.base_url = self.workspace.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def stop(self) -> None:
        await self.socket_mode.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    @property
    def messages(self) -> dict[str, dict[str, dict[str, Any]]]:
        return self.workspace.messages

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        return self.workspace.views

    @property
    def home_views(self) -> dict[str, dict[str, Any]]:
        return self.workspace.home_views

    @property
    def uploaded_files(self) -> list[UploadedFile]:
        """Completed files.upload v2 uploads with their bytes, once per channel they were shared in."""
        return uploaded_files(self.workspace)

    # -- test setup ---------------------------------------------------------------------------

    def add_channel(
        self,
        channel_id: str,
        name: str | None = None,
        *,
        members: Iterable[str] | None = None,
        kind: str = "public_channel",
    ) -> None:
        """Members default to every known user and the bot; leave the bot out for not_in_channel."""
        self.workspace.add_channel(channel_id, name or channel_id.lower(), members=members, kind=kind)

    def add_user(self, user_id: str, name: str, *, is_bot: bool = False) -> None:
        self.workspace.users[user_id] = User(user_id, name, is_bot)

    def add_usergroup(
        self,
        usergroup_id: str,
        *,
        handle: str,
        users: Iterable[str],
        name: str | None = None,
        enabled: bool = True,
    ) -> None:
        """A user group for usergroups.users.list; a disabled one answers only with include_disabled."""
        members = list(users)
        unknown = [user for user in members if user not in self.workspace.users]
        if unknown:
            raise ValueError(f"unknown users {unknown}: add them with add_user first")
        group = Usergroup(usergroup_id, handle, name or handle, members, enabled)
        self.workspace.usergroups[usergroup_id] = group

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = ALICE,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> str:
        """Store a message a person wrote (not the bot) and return its ts."""
        message: dict[str, Any] = {"type": "message", "user": user, "text": text, "team": TEAM_ID}
        message.update({k: v for k, v in (("thread_ts", thread_ts), ("blocks", blocks)) if v})
        return self.workspace.store_message(self.workspace.channel(channel).id, message)["ts"]

    def next_ts(self) -> str:
        return self.workspace.next_ts()

    def issue_trigger_id(self) -> str:
        """A trigger_id that views.open/views.push accept once, within trigger_id_valid_seconds."""
        return self.workspace.issue_trigger_id()

    def response_url(
        self, kind: str = "commands", *, channel: str | None = None, message_ts: str | None = None
    ) -> str:
        """A fresh response_url on this fake; `channel`/`message_ts` name the message it may edit."""
        if not self.base_url:
            raise RuntimeError("FakeSlack is not started: use `async with FakeSlack() as slack`")
        n = self.workspace.next_id()
        path = f"/hooks/{kind}/{TEAM_ID}/{8123456789000 + n}/{n:024x}"
        self.workspace.hooks[path] = Hook(kind, channel, message_ts)
        return self.base_url + path

    # -- fault injection ----------------------------------------------------------------------

    def fail_next(
        self, method: str, error: str = "internal_error", status: int = 500, times: int = 1
    ) -> None:
        self._faults.queue(self._known(method), Fault(status, error), times)

    def rate_limit_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        self._faults.queue(self._known(method), Fault(429, "ratelimited", retry_after), times)

    def inject_faults(
        self, method: str, rate: float = 0.3, seed: int | None = None, retry_after: int = 1
    ) -> None:
        """From now on fail about `rate` of the calls, half with 429 and half with 500."""
        self._faults.randomly(self._known(method), rate=rate, seed=seed, retry_after=retry_after)

    # -- assertions ---------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == self._known(method)]

    # The timeout is a parameter (not the caller's asyncio.timeout) so the TimeoutError can list
    # what was recorded instead.
    async def wait_for(
        self,
        predicate: Callable[[RecordedCall], bool],
        *,
        timeout: float = 10,  # noqa: ASYNC109
        after: int = 0,
    ) -> RecordedCall:
        """The first recorded call from index `after` on that satisfies `predicate`."""
        return await self.wait_until(
            lambda: next((c for c in self.calls[after:] if predicate(c)), None), timeout=timeout
        )

    async def wait_until(
        self,
        condition: Callable[[], T | None],
        *,
        timeout: float = 10,  # noqa: ASYNC109
    ) -> T:
        """Re-evaluate `condition` after each recorded call or response until it is truthy."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    changed = self._changed
                    result = condition()
                    if result:
                        return result
                    await changed.wait()
        except TimeoutError:
            raise TimeoutError(f"nothing matched within {timeout}s; {self._summary()}") from None

    # -- HTTP ---------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        spec = self._specs.get(method)
        args: dict[str, Any] = {}
        try:
            args = await self._arguments(request, spec)
            if method in CLIENT_AUTHENTICATED:
                answer, status, headers = self._exchange(request, self._specs[method], args), 200, {}
            else:
                answer, status, headers = self._answer(method, spec, args, _token(request, args)), 200, {}
                if self.scopes is not None:
                    # As Slack does on every call a token made: the scopes it was granted.
                    headers = {"X-OAuth-Scopes": ",".join(self.scopes)}
        except SlackError as error:
            answer, status, headers = error.body(), error.status, error.headers
        headers_in = {k.lower(): v for k, v in request.headers.items()}
        self._record(RecordedCall(method, args, headers_in, request.method, status, answer))
        return web.json_response(answer, status=status, headers=headers)

    async def _arguments(self, request: web.Request, spec: MethodSpec | None) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.content_type != "application/json":
            form = await request.post()
            args.update((k, v) for k, v in form.items() if isinstance(v, str))
        elif spec is not None and not spec.json_body_accepted:
            self._violate(spec.name, "sent a JSON body, which Slack ignores for this method")
        else:
            args.update(await _json_body(request))
        return _decode_json_args(args)

    def _answer(
        self, method: str, spec: MethodSpec | None, args: dict[str, Any], token: str | None
    ) -> dict[str, Any]:
        if spec is None:
            self._violate(method, "unknown method (not in methods.json)")
            raise SlackError("unknown_method", status=404)
        if not token:
            raise SlackError("not_authed")
        wants_app_token = method in APP_TOKEN_METHODS
        if token in (self.tokens if wants_app_token else self.app_tokens):
            raise SlackError("not_allowed_token_type")
        if token not in (self.app_tokens if wants_app_token else self.tokens):
            raise SlackError("invalid_auth")
        fault = self._faults.take(method)
        if fault is not None:
            raise fault.to_error()
        self._check_arguments(spec, args)
        if method == "auth.test" and (installed := self.oauth.identity(token)) is not None:
            return {"ok": True, **installed}
        return {"ok": True, **HANDLERS[method](self.workspace, args)}

    def _exchange(
        self, request: web.Request, spec: MethodSpec | None, args: dict[str, Any]
    ) -> dict[str, Any]:
        """oauth.v2.access: the code of a consent for a bot token, which this fake then accepts."""
        assert spec is not None
        self._check_arguments(spec, args)
        answer = self.oauth.exchange(basic_credentials(request.headers.get("Authorization", "")), args)
        self.tokens.add(answer["access_token"])
        return {"ok": True, **answer}

    def _check_arguments(self, spec: MethodSpec, args: dict[str, Any]) -> None:
        for name in unknown_arguments(spec, args):
            self._violate(spec.name, f"unknown argument {name!r} (not in methods.json all_args)")
        if problems := argument_problems(spec, args):
            self._reject(spec.name, problems[0].error, [p.message for p in problems])
        if "blocks" in args and (problems := check_blocks(args["blocks"])):
            self._reject(spec.name, spec.error_or("invalid_blocks"), problems)
        if "view" in args and view_too_large(args["view"]):
            self._reject(spec.name, "view_too_large", ["view is larger than Slack allows"])
        if "view" in args and (problems := check_view(args["view"])):
            self._reject(spec.name, spec.error_or("invalid_blocks"), problems)

    async def _handle_hook(self, request: web.Request) -> web.Response:
        hook = self.workspace.hooks.get(request.path)
        body: Any = None
        with contextlib.suppress(ValueError):
            body = json.loads(await request.text())
        try:
            answer, status = self._answer_hook(request.path, hook, body), 200
        except SlackError as error:
            answer, status = error.body(), error.status
        headers = {k.lower(): v for k, v in request.headers.items()}
        kind = hook.kind if hook else request.match_info["kind"]
        self._record(RecordedResponse(str(request.url), kind, body, headers, status))
        return web.json_response(answer, status=status)

    def _answer_hook(self, path: str, hook: Hook | None, body: Any) -> dict[str, Any]:
        max_uses = load_spec("limits.json")["timing"]["response_url_uses"]
        if hook is None:
            self._reject(path, "expired_url", ["this response_url was never handed out"], 404)
        elif hook.uses >= max_uses:
            self._reject(path, "used_url", [f"a response_url takes {max_uses} posts"], 404)
        elif not isinstance(body, dict):
            self._reject(path, "invalid_payload", ["the body must be a JSON object"], 400)
        hook.uses += 1
        if "blocks" in body and (problems := check_blocks(body["blocks"])):
            self._reject(path, "invalid_blocks", problems, 400)
        apply_response(self.workspace, hook, body)
        return {"ok": True}

    async def _handle_upload(self, request: web.Request) -> web.Response:
        content = await read_upload_body(request)
        try:
            status, text = 200, receive_upload(self.workspace, request.path, content)
        except UploadRefused as refusal:
            self._violate(request.path, refusal.problem)
            status, text = refusal.status, refusal.body
        self._notify()
        return web.Response(status=status, text=text)

    # -- bookkeeping --------------------------------------------------------------------------

    def _reject(self, where: str, error: str, problems: list[str], status: int = 200) -> NoReturn:
        for problem in problems:
            self._violate(where, f"{error}: {problem}")
        raise SlackError(error, status=status, messages=problems)

    def _violate(self, where: str, message: str) -> None:
        self.violations.append(f"{where}: {message}")

    def _violate_socket(self, message: str) -> None:
        self.violations.append(f"socket mode: {message}")
        self._notify()

    def _record(self, entry: RecordedCall | RecordedResponse) -> None:
        if isinstance(entry, RecordedCall):
            self.calls.append(entry)
        else:
            self.responses.append(entry)
        self._notify()

    def _notify(self) -> None:
        """Wake `wait_until`/`wait_for` to look at the state again."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _known(self, method: str) -> str:
        if method not in self._specs:
            raise ValueError(f"{method!r} is not a method in methods.json or its supplement")
        return method

    def _summary(self) -> str:
        calls = [f"{c.method} -> {'ok' if c.ok else c.response.get('error')}" for c in self.calls]
        return (
            f"recorded calls: {calls or 'none'}; response_url posts: {len(self.responses)}; "
            f"violations: {self.violations or 'none'}"
        )


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.text() or "{}")
    except ValueError:
        raise SlackError("invalid_json") from None
    if not isinstance(data, dict):
        raise SlackError("json_not_object")
    return {k: v for k, v in data.items() if v is not None}


def _decode_json_args(args: dict[str, Any]) -> dict[str, Any]:
    # Undecodable strings stay strings, and the Block Kit checks then report them.
    decoded = dict(args)
    for name in _JSON_ARGS:
        if isinstance(decoded.get(name), str):
            with contextlib.suppress(ValueError):
                decoded[name] = json.loads(decoded[name])
    return decoded


def _token(request: web.Request, args: dict[str, Any]) -> str | None:
    """The bearer token, else the `token` argument; the argument is dropped from `args` either way."""
    form_token = args.pop("token", None)
    scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and bearer.strip():
        return bearer.strip()
    return form_token
