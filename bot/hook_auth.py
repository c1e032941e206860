"""Webhook authentication: a bearer token, an HMAC-SHA256 signature of the exact body, or a token
header (GitLab's), each compared in constant time. A hook accepts a request that passes any one of
the credentials configured for it."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from bot.edge import Refused

SIGNATURE_HEADER = "X-Carapulse-Signature"
GITHUB_SIGNATURE_HEADER = "X-Hub-Signature-256"
GITLAB_TOKEN_HEADER = "X-Gitlab-Token"


@dataclass(frozen=True)
class HookAuth:
    """`settings` names the variables behind the credentials, for the 401 reason in the log."""

    settings: str
    bearer: str = ""
    hmac_secret: str = ""
    signature_header: str = SIGNATURE_HEADER
    token: str = ""
    token_header: str = GITLAB_TOKEN_HEADER

    @property
    def configured(self) -> bool:
        return bool(self.bearer or self.hmac_secret or self.token)

    def check(self, headers: Mapping[str, str], body: bytes) -> None:
        if self.bearer and _same(_bearer(headers), self.bearer):
            return
        if self.hmac_secret and _same(
            headers.get(self.signature_header, ""), signature(self.hmac_secret, body)
        ):
            return
        if self.token and _same(headers.get(self.token_header, ""), self.token):
            return
        raise Refused(401, f"no credential matches {self.settings}")


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex>` over the body, as GitHub signs its deliveries."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _bearer(headers: Mapping[str, str]) -> str:
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _same(given: str, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )
