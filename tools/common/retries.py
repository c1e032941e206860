"""Bounded, jittered retries of transient failures, the one policy every tool client retries with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter
from tenacity.wait import wait_base


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    initial_wait: float = 0.2
    max_wait: float = 5.0

    def backoff(self) -> wait_base:
        return wait_exponential_jitter(
            multiplier=self.initial_wait, max=self.max_wait, jitter=self.initial_wait
        )

    def retrying(
        self,
        transient: Callable[[BaseException], bool],
        *,
        repeatable: bool = True,
        wait: wait_base | None = None,
    ) -> AsyncRetrying:
        """Retry what `transient` accepts, up to `attempts`; a call that is not safe to repeat (a
        write that does not set an absolute value) is tried once, never retried blindly."""
        return AsyncRetrying(
            stop=stop_after_attempt(self.attempts if repeatable else 1),
            wait=wait or self.backoff(),
            retry=retry_if_exception(transient),
            reraise=True,
        )
