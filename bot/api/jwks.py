"""The signing keys a CI provider publishes (its JWKS), fetched on first use and kept.

A token naming a key id not among them makes the cache fetch again, since providers rotate keys,
but at most once per `min_refetch_seconds`: tokens with made-up key ids cannot make Carapulse
hammer the provider. Keys older than `max_age_seconds` are fetched again before use, so a key the
provider withdrew stops counting.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.api.errors import ApiRefusal, Unauthorized

log = logging.getLogger(__name__)

FETCH_TIMEOUT_SECONDS = 5.0
MAX_JWKS_BYTES = 1024 * 1024


class KeysUnavailable(ApiRefusal):
    """The provider's keys could not be fetched: not the caller's fault, so not a 401."""

    status = 503
    code = "keys_unavailable"


class JwksCache:
    def __init__(
        self,
        *,
        provider: str,
        url: str,
        http: aiohttp.ClientSession,
        min_refetch_seconds: float = 60.0,
        max_age_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._provider = provider
        self._url = url
        self._http = http
        self._min_refetch = min_refetch_seconds
        self._max_age = max_age_seconds
        self._clock = clock
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: float | None = None
        # Why the last fetch failed, while no keys are known.
        self._problem = ""
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> dict[str, Any]:
        """The published JWK with this key id; raises Unauthorized when the provider does not publish
        it, KeysUnavailable when its keys cannot be had at all."""
        if self._fetched_at is None or self._age() > self._max_age or kid not in self._keys:
            await self._refresh()
        if not self._keys:
            raise KeysUnavailable(f"the signing keys of {self._provider} cannot be fetched: {self._problem}")
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized(f"the token's signing key {kid!r} is not one {self._provider} publishes")
        return key

    async def _refresh(self) -> None:
        """Fetch once, however many callers ask at the same time, and not again within the floor,
        whether the last fetch worked or not. A failed fetch keeps the keys known before."""
        async with self._lock:
            if self._fetched_at is not None and self._age() < self._min_refetch:
                return
            try:
                self._keys = await self._fetch()
                self._problem = ""
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                self._problem = str(exc) or type(exc).__name__
                log.warning(
                    "fetching the keys of %s from %s failed: %s", self._provider, self._url, self._problem
                )
            self._fetched_at = self._clock()

    async def _fetch(self) -> dict[str, dict[str, Any]]:
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS)
        async with self._http.get(self._url, timeout=timeout, allow_redirects=False) as response:
            if response.status != 200:
                raise ValueError(f"{self._url} answered {response.status}")
            body = await response.content.read(MAX_JWKS_BYTES + 1)
        if len(body) > MAX_JWKS_BYTES:
            raise ValueError(f"{self._url} sent more than {MAX_JWKS_BYTES} bytes")
        document = _json_object(body)
        keys = document.get("keys")
        if not isinstance(keys, list):
            raise ValueError(f"{self._url} is not a JWKS (no `keys` list)")
        return {key["kid"]: key for key in keys if isinstance(key, dict) and isinstance(key.get("kid"), str)}

    def _age(self) -> float:
        return self._clock() - (self._fetched_at or 0.0)


def _json_object(body: bytes) -> dict[str, Any]:
    document = json.loads(body)
    if not isinstance(document, dict):
        raise ValueError("the JWKS is not a JSON object")
    return document
