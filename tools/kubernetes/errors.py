"""How a failed Kubernetes API call reads on the plan card: the API server's own Status message, framed
with what Carapulse was doing to which object."""

from __future__ import annotations

import json

import urllib3
from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError

from tools.common.base import ToolError

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
_KUBE_VERBS = {"GET": "get", "PATCH": "patch", "PUT": "update", "DELETE": "delete", "POST": "create"}


def is_transient(error: BaseException) -> bool:
    """Worth another attempt: throttling, a server error, or no answer at all (refused, reset, timed out)."""
    if isinstance(error, ApiException):
        return int(error.status or 0) in TRANSIENT_STATUSES
    return isinstance(error, urllib3.exceptions.HTTPError)


def api_error(error: ApiException, *, call: str, target: str, verb: str | None = None) -> ToolError:
    """`call` is "METHOD /path"; `target` names the object ("deployment shop/checkout"); `verb` is the
    Kubernetes verb when the method does not tell it (a GET of a collection is "list")."""
    status = int(error.status or 0)
    reason = status_message(error)
    method = call.split(" ", 1)[0]
    verb = verb or _KUBE_VERBS.get(method, method.lower())
    if status == 0:  # the client gave up before or after the exchange (TLS, an unreadable answer)
        first_line = str(error.reason).splitlines()[0]
        message = f"kubernetes client could not complete {verb} on {target}: {first_line}"
    elif status == 404:
        message = f"{target} not found"
    elif status == 409:
        message = f"{target} changed while Carapulse wrote it ({reason}); run the step again"
    elif status in (401, 403):
        message = f"kubernetes denied {verb} on {target}: {reason}"
    elif status in (400, 422):
        message = f"kubernetes rejected {verb} on {target}: {reason}"
    else:
        message = f"kubernetes failed {verb} on {target}: HTTP {status} {reason}"
    return ToolError(message, call=call, status=status or None)


def connection_error(
    error: urllib3.exceptions.HTTPError, *, call: str, server: str, time_limit: float
) -> ToolError:
    if isinstance(error, urllib3.exceptions.TimeoutError):
        message = f"the kubernetes API server at {server} did not answer within {time_limit:g}s"
    else:
        message = f"cannot reach the kubernetes API server at {server}: {error}"
    return ToolError(message, call=call)


def malformed_answer(error: Exception, *, call: str, target: str) -> ToolError:
    """The server answered 2xx with a body the client could not read as the expected object."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        first_line = f"{error.title}{' ' + where if where else ''}: {first['msg']}"
    else:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
    return ToolError(
        f"kubernetes answered {call} for {target} with a malformed body: {first_line}", call=call
    )


def status_message(error: ApiException) -> str:
    """The API server's Status message when the body carries one, else the HTTP reason."""
    try:
        body = json.loads(error.body or "")
    except ValueError:
        return str(error.reason)
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return str(error.reason)
