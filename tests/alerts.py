"""Alertmanager webhook bodies for tests, built on the recorded one in tests/fixtures."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@cache
def _recorded(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of a recorded body (tests/fixtures/<name>)."""
    return copy.deepcopy(_recorded(name))


def alert(
    *,
    fingerprint: str,
    status: str = "firing",
    alertname: str = "ProbeAlwaysFiring",
    service: str = "checkout",
    severity: str = "warning",
    **labels: str,
) -> dict[str, Any]:
    """The recorded firing alert with other labels; resolved ones carry an end time."""
    recorded = fixture("alertmanager_webhook.json")["alerts"][0]
    recorded["labels"] = {
        **recorded["labels"],
        "alertname": alertname,
        "service": service,
        "severity": severity,
        **labels,
    }
    recorded.update(fingerprint=fingerprint, status=status)
    if status == "resolved":
        recorded["endsAt"] = "2026-11-26T04:09:28.553Z"
    return recorded


def webhook(*alerts: dict[str, Any]) -> dict[str, Any]:
    """The recorded webhook body carrying `alerts`."""
    body = fixture("alertmanager_webhook.json")
    body["alerts"] = list(alerts)
    body["status"] = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return body
