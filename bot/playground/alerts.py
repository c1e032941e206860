"""The page's "fire an alert" button: an Alertmanager webhook (version 4) posted to the bot's
/hooks/alertmanager with the configured bearer token, as Alertmanager's `http_config.authorization`
sends it. Firing also raises the service's error ratio in the demo Prometheus, so the incident's chart
and the remediation's verify check see what the alert saw."""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import aiohttp

from bot.playground import demo
from bot.playground.prometheus import ERROR_RATIO, DemoPrometheus

ZERO_TIME = "0001-01-01T00:00:00Z"


@dataclass(frozen=True)
class Posted:
    status: int
    text: str


class AlertSender:
    def __init__(self, *, bot_url: str, token: str, prometheus: DemoPrometheus, prometheus_url: str) -> None:
        self.hook_url = f"{bot_url}/hooks/alertmanager"
        self.token = token
        self.prometheus = prometheus
        self.prometheus_url = prometheus_url
        self._started: dict[str, datetime] = {}

    async def send(
        self, *, service: str, status: Literal["firing", "resolved"], severity: str = "warning"
    ) -> Posted:
        """Fire (or resolve) `HighErrorRate` for `service`; LookupError for a service not in the demo."""
        if service not in demo.DEPLOYMENTS:
            raise LookupError(f"{service!r} is not a demo service ({', '.join(demo.DEPLOYMENTS)})")
        now = datetime.now(UTC)
        if status == "firing":
            self.prometheus.raise_errors(service)
            self._started.setdefault(service, now)
        else:
            self.prometheus.calm(service)
        body = self.webhook(service=service, status=status, severity=severity, now=now)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.hook_url, data=json.dumps(body), headers=headers) as response,
        ):
            posted = Posted(response.status, await response.text())
        if status == "resolved":
            self._started.pop(service, None)
        return posted

    def webhook(self, *, service: str, status: str, severity: str, now: datetime) -> dict[str, Any]:
        labels = {
            "alertname": demo.ALERTNAME,
            "namespace": demo.NAMESPACE,
            "service": service,
            "severity": severity,
        }
        expr = f'{ERROR_RATIO}{{namespace="{demo.NAMESPACE}",service="{service}"}} > 0.05'
        annotations = {
            "summary": f"{service} fails more than 5 % of its requests",
            "description": f"The 5xx ratio of {service} has been above 5 % for 2 minutes.",
        }
        started = self._started.get(service, now)
        alert = {
            "status": status,
            "labels": labels,
            "annotations": annotations,
            "startsAt": _stamp(started),
            "endsAt": _stamp(now) if status == "resolved" else ZERO_TIME,
            "generatorURL": f"{self.prometheus_url}/graph?"
            + urllib.parse.urlencode({"g0.expr": expr, "g0.tab": 1}),
            "fingerprint": hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16],
        }
        return {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="{demo.ALERTNAME}"}}',
            "truncatedAlerts": 0,
            "status": status,
            "receiver": "carapulse",
            "groupLabels": {"alertname": demo.ALERTNAME},
            "commonLabels": labels,
            "commonAnnotations": annotations,
            "externalURL": "http://alertmanager.playground.invalid",
            "alerts": [alert],
        }


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
