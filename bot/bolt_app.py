"""The Bolt app, measured: every request Slack sends is counted by its listener and outcome, timed
until its answer, and handled with a request id in its log lines.

Bolt's own middleware cannot wrap the listeners (its `next()` only marks the chain as continuing),
so the measuring sits around `async_dispatch`, which HTTP mode (bot/http.py) and Socket Mode both
call once per request. With process_before_response, the answer leaves when dispatch returns, so
that is the ack Slack waits for; in HTTP mode the clock starts when the request arrived
(`RECEIVED_AT` in the request's context), before its body was read and checked.
"""

from __future__ import annotations

import time
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request import payload_utils
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from blocks import ids
from bot import log_context, metrics

RECEIVED_AT = "carapulse_received_at"
# Ids the blocks render (blocks/ids.py), longest first so a prefix id (incident_link_) names the
# numbered ones built on it. Anything else is "other": label values stay bounded.
_KNOWN_IDS = sorted(
    (v for k, v in vars(ids).items() if k.isupper() and isinstance(v, str)), key=len, reverse=True
)


class MeasuredApp(AsyncApp):
    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        started = req.context.get(RECEIVED_AT) or time.perf_counter()
        kind, listener = listener_of(req.body)
        outcome = "error"
        try:
            with log_context.bound(request_id=log_context.new_request_id()):
                response = await super().async_dispatch(req)
            outcome = "ok" if response.status < 400 else ("error" if response.status >= 500 else "refused")
            return response
        finally:
            metrics.SLACK_REQUESTS.labels(kind=kind, listener=listener, outcome=outcome).inc()
            metrics.SLACK_ACK_SECONDS.labels(kind=kind).observe(time.perf_counter() - started)


def listener_of(body: dict[str, Any]) -> tuple[str, str]:
    """(kind, id) of a request as listeners match it: the command, action_id, callback_id or event type."""
    if payload_utils.is_slash_command(body):
        return "command", str(body.get("command", ""))
    if payload_utils.is_event(body):
        event = payload_utils.to_event(body) or {}
        return "event", str(event.get("type", "other"))
    if payload_utils.is_action(body):
        action = payload_utils.to_action(body) or {}
        return "action", _bounded(action.get("action_id") or action.get("callback_id"))
    if payload_utils.is_view(body):
        view = payload_utils.to_view(body) or {}
        return "view", _bounded(view.get("callback_id"))
    if payload_utils.is_shortcut(body):
        return "shortcut", _bounded((payload_utils.to_shortcut(body) or {}).get("callback_id"))
    if payload_utils.is_options(body):
        return "options", _bounded((payload_utils.to_options(body) or {}).get("action_id"))
    return "other", "other"


def _bounded(value: object) -> str:
    text = str(value or "")
    return next((known for known in _KNOWN_IDS if text.startswith(known)), "other")
