"""core/v1 Events as the controllers and kubelet record them: one per (object, type, reason, message),
its count and lastTimestamp bumped when it happens again."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.playground.kubernetes.objects import ObjectStore
from bot.playground.kubernetes.status import JSON


@dataclass
class Events:
    store: ObjectStore

    def record(
        self,
        involved: JSON,
        reason: str,
        message: str,
        *,
        event_type: str = "Normal",
        component: str,
        count: int = 1,
        at: datetime | None = None,
    ) -> JSON:
        """Record that `reason` happened to `involved` (an object as stored, or a bare reference)."""
        when = _rfc3339(at or datetime.now(UTC))
        reference = _reference(involved)
        namespace = reference.get("namespace") or "default"
        for event in self.store.list("events", namespace):
            same = (event["involvedObject"], event["type"], event["reason"], event["message"])
            if same == (reference, event_type, reason, message):
                event["count"] += count
                event["lastTimestamp"] = when
                return self.store.update("events", event)
        event: JSON = {
            "kind": "Event",
            "apiVersion": "v1",
            "metadata": {"name": f"{reference['name']}.{time.time_ns():x}", "namespace": namespace},
            "involvedObject": reference,
            "reason": reason,
            "message": message,
            "source": {"component": component},
            "firstTimestamp": when,
            "lastTimestamp": when,
            "count": count,
            "type": event_type,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": "",
        }
        return self.store.create("events", event)


def _reference(obj: JSON) -> JSON:
    meta = obj["metadata"]
    reference = {"kind": obj["kind"], "name": meta["name"]}
    if meta.get("namespace"):
        reference["namespace"] = meta["namespace"]
    for key, value in (("uid", meta.get("uid")), ("apiVersion", obj.get("apiVersion"))):
        if value:
            reference[key] = value
    return reference


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
