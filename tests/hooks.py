"""Posting to Carapulse's webhooks as Alertmanager, Argo CD, GitHub, GitLab or an event exporter would."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.hook_auth import signature

ALERTMANAGER_TOKEN = "am-hook-token-0123456789"
HOOK_SECRET = "hook-secret-0123456789"
GITLAB_TOKEN = "gitlab-hook-token-0123"

HOOK_SETTINGS = {
    "ALERTMANAGER_HOOK_TOKEN": ALERTMANAGER_TOKEN,
    "ALERTMANAGER_HOOK_SECRET": HOOK_SECRET,
    "ARGOCD_HOOK_TOKEN": ALERTMANAGER_TOKEN,
    "K8S_HOOK_SECRET": HOOK_SECRET,
    "GITHUB_HOOK_SECRET": HOOK_SECRET,
    "GITLAB_HOOK_TOKEN": GITLAB_TOKEN,
}


@dataclass(frozen=True)
class HookAnswer:
    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


async def post(
    base_url: str,
    hook: str,
    body: Any,
    *,
    headers: dict[str, str] | None = None,
    bearer: str | None = ALERTMANAGER_TOKEN,
    raw: bytes | None = None,
    content_type: str = "application/json",
    session: aiohttp.ClientSession | None = None,
) -> HookAnswer:
    """POST `body` as JSON (or `raw` bytes) to /hooks/<hook> with a bearer token unless told otherwise."""
    data = raw if raw is not None else json.dumps(body).encode()
    sent = {"Content-Type": content_type, **(headers or {})}
    if bearer:
        sent["Authorization"] = f"Bearer {bearer}"
    own = session is None
    client = session or aiohttp.ClientSession()
    try:
        # A BytesIO, so a large body is streamed rather than sent from the loop in one piece.
        async with client.post(f"{base_url}/hooks/{hook}", data=io.BytesIO(data), headers=sent) as response:
            return HookAnswer(response.status, await response.text())
    finally:
        if own:
            await client.close()


def signed(
    body: Any, secret: str = HOOK_SECRET, header: str = "X-Carapulse-Signature"
) -> tuple[bytes, dict[str, str]]:
    data = json.dumps(body).encode()
    return data, {header: signature(secret, data)}
