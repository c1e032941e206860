"""The checks on a commit, rolled up the way the merge box shows them: commit statuses (the older API,
one latest state per context) and check runs (GitHub Actions and apps) are both read, every page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from tools.github.client import CheckRun, CommitStatus, GitHubClient

_RUN_PASSED = frozenset({"success", "neutral", "skipped"})
_STATUS_FAILED = frozenset({"failure", "error"})


@dataclass(frozen=True)
class CheckSummary:
    runs: list[CheckRun]
    statuses: list[CommitStatus]

    @property
    def passed(self) -> list[str]:
        return [r.name for r in self.runs if r.status == "completed" and r.conclusion in _RUN_PASSED] + [
            s.context for s in self.statuses if s.state == "success"
        ]

    @property
    def pending(self) -> list[str]:
        return [r.name for r in self.runs if r.status != "completed"] + [
            s.context for s in self.statuses if s.state == "pending"
        ]

    @property
    def failed(self) -> list[str]:
        return [r.name for r in self.runs if r.status == "completed" and r.conclusion not in _RUN_PASSED] + [
            s.context for s in self.statuses if s.state in _STATUS_FAILED
        ]

    @property
    def state(self) -> str:
        """failure if anything failed, else pending if anything runs, else success; none without checks."""
        if self.failed:
            return "failure"
        if self.pending:
            return "pending"
        return "success" if self.passed else "none"

    @property
    def contexts(self) -> list[str]:
        return [s.context for s in self.statuses]

    @property
    def context_states(self) -> dict[str, str]:
        return {s.context: s.state for s in self.statuses}

    def describe(self) -> str:
        if self.state == "none":
            return "none reported"
        counts = f"{len(self.passed)} passed, {len(self.pending)} pending, {len(self.failed)} failed"
        return f"{self.state}: {counts}" + (f" ({', '.join(self.failed)})" if self.failed else "")

    def as_data(self) -> dict[str, Any]:
        return {"state": self.state, "passed": self.passed, "pending": self.pending, "failed": self.failed}


async def read_checks(client: GitHubClient, repository: str, ref: str) -> CheckSummary:
    commit = f"/repos/{repository}/commits/{quote(ref, safe='')}"
    statuses = await client.read_all(f"{commit}/status", CommitStatus, items="statuses")
    runs = await client.read_all(f"{commit}/check-runs", CheckRun, items="check_runs")
    return CheckSummary(runs=runs, statuses=statuses)
