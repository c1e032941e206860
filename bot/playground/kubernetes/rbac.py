"""The request attributes the API server authorizes on (verb, resource, subresource, namespace, name),
read from a request path, and the denials a test sets up."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.playground.kubernetes.status import ApiError, forbidden

_PATH = re.compile(
    r"^/(?:api/v1|apis/[^/]+/[^/]+)"
    r"(?:/namespaces/(?P<namespace>[^/]+))?"
    r"/(?P<resource>[^/]+)(?:/(?P<name>[^/]+))?(?:/(?P<subresource>[^/]+))?$"
)
_VERBS = {"PATCH": "patch", "PUT": "update", "DELETE": "delete", "POST": "create"}


@dataclass(frozen=True)
class Attributes:
    verb: str
    resource: str
    subresource: str
    namespace: str | None
    name: str | None


def attributes(method: str, path: str) -> Attributes | None:
    """None for paths that are not resources (/version, discovery)."""
    match = _PATH.match(path)
    if match is None:
        return None
    name = match["name"]
    verb = ("get" if name else "list") if method == "GET" else _VERBS.get(method, method.lower())
    return Attributes(verb, match["resource"], match["subresource"] or "", match["namespace"], name)


@dataclass
class Rbac:
    # (verb, resource with subresource, namespace or None for every namespace) that are denied.
    _denied: set[tuple[str, str, str | None]] = field(default_factory=set)

    def deny(self, verb: str, resource: str, namespace: str | None) -> None:
        self._denied.add((verb, resource, namespace))

    def check(self, request: Attributes) -> None:
        full = f"{request.resource}/{request.subresource}" if request.subresource else request.resource
        for namespace in (request.namespace, None):
            if (request.verb, full, namespace) in self._denied:
                raise _denial(request)


def _denial(request: Attributes) -> ApiError:
    return forbidden(request.verb, request.resource, request.namespace, request.name, request.subresource)
