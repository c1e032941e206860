"""What /readyz answers: whether this process can do its work now, check by check.

- `database`: a connection answers `SELECT 1` within the probe's time;
- `migrations`: the schema is at the head revision this code was written for (a replica of a newer
  or older version beside a database another migrated reports it);
- `worker`: this process's worker loop showed a sign of life recently (ok when it runs none);
- `slack`: the bot token passed `auth.test` when last asked. That answer is cached and renewed in
  the background (`SlackAuth`), so probes never spend Slack's rate limit or wait on it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.migrate import current_revisions, head_revisions
from bot.worker import Worker

log = logging.getLogger(__name__)

PROBE_SECONDS = 2.0
SLACK_AUTH_INTERVAL_SECONDS = 300.0
SLACK_AUTH_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


class SlackAuth:
    """The last answer of `auth.test` for the bot token, asked at start and every `interval`
    seconds (every `retry` seconds while it fails). With OAuth installs (`client` None) there is no
    one token to ask about: each workspace's stored token is used, and refused, per request."""

    def __init__(
        self,
        client: AsyncWebClient | None,
        *,
        interval: float = SLACK_AUTH_INTERVAL_SECONDS,
        retry: float = SLACK_AUTH_RETRY_SECONDS,
    ) -> None:
        self._client = client
        self._interval = interval
        self._retry = retry
        self.check = (
            Check("slack", False, "auth.test not answered yet")
            if client is not None
            else Check("slack", True, "OAuth installs: each workspace's own token, checked as it is used")
        )

    async def refresh(self) -> Check:
        if self._client is None:
            return self.check
        try:
            answer = await self._client.auth_test()
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error")
            self.check = Check("slack", False, f"auth.test failed: {error}; check SLACK_BOT_TOKEN")
        except Exception as exc:
            self.check = Check("slack", False, f"auth.test did not answer: {exc or type(exc).__name__}")
        else:
            self.check = Check(
                "slack", True, f"authenticated as {answer.get('user_id')} in {answer.get('team_id')}"
            )
        if not self.check.ok:
            log.warning("Slack: %s", self.check.detail)
        return self.check

    async def run_forever(self) -> None:
        while self._client is not None:
            await self.refresh()
            await asyncio.sleep(self._interval if self.check.ok else self._retry)


class Readiness:
    def __init__(self, engine: AsyncEngine, *, worker: Worker | None, slack: SlackAuth) -> None:
        self._engine = engine
        self._worker = worker
        self._slack = slack
        self._heads = head_revisions()
        # The checks that failed at the last probe: a change is logged once, not every probe.
        self._failing: frozenset[str] = frozenset()

    async def checks(self) -> list[Check]:
        database, migrations = await self._database()
        return [database, migrations, self._worker_check(), self._slack.check]

    def log_change(self, checks: list[Check]) -> None:
        """One WARNING line when the set of failing checks changes, one INFO line when none is left."""
        failing = frozenset(check.name for check in checks if not check.ok)
        if failing == self._failing:
            return
        self._failing = failing
        if failing:
            log.warning("not ready: %s", "; ".join(f"{c.name}: {c.detail}" for c in checks if not c.ok))
        else:
            log.info("ready: every check passes")

    async def _database(self) -> tuple[Check, Check]:
        try:
            async with asyncio.timeout(PROBE_SECONDS), self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                current = await current_revisions(conn)
        except TimeoutError:
            detail = f"no answer within {PROBE_SECONDS:g} s"
            return Check("database", False, detail), Check("migrations", False, "not checked: " + detail)
        except Exception as exc:
            detail = f"unreachable: {_first_line(exc)}"
            return Check("database", False, detail), Check(
                "migrations", False, "not checked: database " + detail
            )
        database = Check("database", True, "reachable")
        if current == self._heads:
            return database, Check("migrations", True, f"at head {', '.join(sorted(self._heads))}")
        at = ", ".join(sorted(current)) or "no revision"
        wanted = ", ".join(sorted(self._heads))
        return database, Check(
            "migrations", False, f"database is at {at}, this version needs {wanted}: run `carapulse migrate`"
        )

    def _worker_check(self) -> Check:
        if self._worker is None:
            return Check("worker", True, "no worker in this process")
        if self._worker.last_alive is None:
            return Check("worker", False, "the worker loop has not started")
        age = time.monotonic() - self._worker.last_alive
        if age > self._worker.stale_after:
            return Check(
                "worker", False, f"no heartbeat for {age:.0f} s (limit {self._worker.stale_after:.0f} s)"
            )
        return Check("worker", True, f"heartbeat {age:.1f} s ago")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
