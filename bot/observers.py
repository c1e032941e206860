"""Who is told of a plan's changes once they are stored: the notifier (the card in Slack), which
passes them on to the notifications beyond Slack."""

from __future__ import annotations

from typing import Protocol


class PlanObserver(Protocol):
    def plan_changed(self, team_id: str, plan_id: int) -> None: ...

    def plan_finished(self, team_id: str, plan_id: int) -> None: ...
