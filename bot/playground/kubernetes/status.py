"""The `Status` bodies the Kubernetes API server answers errors with, message for message."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

JSON = dict[str, Any]

# API group of each resource the fake serves ("" is the core group).
GROUPS = {"deployments": "apps", "replicasets": "apps", "pods": "", "events": "", "nodes": ""}
SERVICE_ACCOUNT = "system:serviceaccount:carapulse:carapulse"


class ApiError(Exception):
    """An API server failure, carried as the `Status` object the real server would answer with."""

    def __init__(self, status: JSON) -> None:
        super().__init__(status["message"])
        self.status = status

    @property
    def code(self) -> int:
        return int(self.status["code"])


def status_error(code: int, reason: str, message: str, details: JSON | None = None) -> ApiError:
    status: JSON = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        status["details"] = details
    status["code"] = code
    return ApiError(status)


def qualified(resource: str) -> str:
    """ "deployments.apps", but "pods": the core group is left out of messages."""
    group = GROUPS.get(resource, "")
    return f"{resource}.{group}" if group else resource


def details(resource: str, name: str) -> JSON:
    group = GROUPS.get(resource, "")
    return {"name": name, "group": group, "kind": resource} if group else {"name": name, "kind": resource}


def not_found(resource: str, name: str) -> ApiError:
    return status_error(404, "NotFound", f'{qualified(resource)} "{name}" not found', details(resource, name))


def already_exists(resource: str, name: str) -> ApiError:
    message = f'{qualified(resource)} "{name}" already exists'
    return status_error(409, "AlreadyExists", message, details(resource, name))


def conflict(resource: str, name: str) -> ApiError:
    message = (
        f'Operation cannot be fulfilled on {qualified(resource)} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again"
    )
    return status_error(409, "Conflict", message, details(resource, name))


def forbidden(
    verb: str, resource: str, namespace: str | None, name: str | None, subresource: str = ""
) -> ApiError:
    """An RBAC denial, worded as the authorizer words it for our service account."""
    group = GROUPS.get(resource, "")
    full = f"{resource}/{subresource}" if subresource else resource
    subject = f'{qualified(resource)} "{name}"' if name else qualified(resource)
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    message = (
        f'{subject} is forbidden: User "{SERVICE_ACCOUNT}" cannot {verb} resource "{full}" '
        f'in API group "{group}" {scope}'
    )
    return status_error(403, "Forbidden", message, details(resource, name or ""))


def bad_request(message: str) -> ApiError:
    return status_error(400, "BadRequest", message)


def invalid(kind: str, group: str, name: str, field_path: str, detail: str) -> ApiError:
    qualified_kind = f"{kind}.{group}" if group else kind
    message = f'{qualified_kind} "{name}" is invalid: {field_path}: {detail}'
    cause = {"reason": "FieldValueInvalid", "message": detail, "field": field_path}
    details = {"name": name, "group": group, "kind": kind, "causes": [cause]}
    return status_error(422, "Invalid", message, details)


def patch_failed(message: str) -> ApiError:
    return status_error(422, "Invalid", message)


def injected(code: int, resource: str, name: str) -> ApiError:
    """The Status for a fault a test asked for with `fail_next`."""
    if code == 409:
        return conflict(resource, name)
    if code == 404:
        return not_found(resource, name)
    if code == 500:
        causes = {"causes": [{"message": "injected fault"}]}
        return status_error(500, "InternalError", "Internal error occurred: injected fault", causes)
    phrase = HTTPStatus(code).phrase
    return status_error(code, phrase.replace(" ", ""), f"injected fault: {phrase}")
