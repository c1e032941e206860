"""Waiting for a state that an upstream API cannot push: re-read it until a condition holds or a
deadline passes, as `kubectl rollout status` and `argocd app wait` do."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def until(
    read: Callable[[], Awaitable[T]], done: Callable[[T], bool], *, time_limit: float, poll_seconds: float
) -> tuple[T, bool]:
    """The last state read and whether `done` held for it. The first read is immediate and the last
    one starts no later than the deadline, so a state that is already done never waits."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + time_limit
    while True:
        state = await read()
        if done(state):
            return state, True
        remaining = deadline - loop.time()
        if remaining <= 0:
            return state, False
        await asyncio.sleep(min(poll_seconds, remaining))
