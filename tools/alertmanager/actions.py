"""Alertmanager (API v2): what is firing, how it is grouped and silenced, and silences as plan steps.

`create_silence` is undone by `expire_silence` of the id it created. `expire_silence` reads the
silence before expiring it, so its own rollback re-creates one with the same matchers, end and author.
Both rehearse for real: the dry run of a silence lists the alerts its matchers would silence now, and
the dry run of an expiry shows the silence it would end.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from tools.alertmanager.client import AlertmanagerClient, Matcher
from tools.common.base import Action, ActionArgs, ActionResult, ArgsT, Effect, Rehearsed, RollbackStep
from tools.common.wording import count, duration_words, listing

MAX_SILENCE_SECONDS = 90 * 86400
Limit = Annotated[int, Field(ge=1, le=1000)]
Matchers = Annotated[list[Matcher], Field(max_length=20)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class AlertFilterArgs(ActionArgs):
    """Alertmanager's own filters: label matchers, which states to include, a receiver regex."""

    matchers: Matchers = Field(default_factory=list)
    active: bool = True
    silenced: bool = True
    inhibited: bool = True
    unprocessed: bool = True
    receiver: str | None = None
    limit: Limit = 100

    def params(self) -> dict[str, Any]:
        return {
            "filter": [str(m) for m in self.matchers],
            "active": self.active,
            "silenced": self.silenced,
            "inhibited": self.inhibited,
            "unprocessed": self.unprocessed,
            "receiver": self.receiver,
        }


class SilencesArgs(ActionArgs):
    matchers: Matchers = Field(default_factory=list)
    include_expired: bool = False
    limit: Limit = 100


class CreateSilenceArgs(ActionArgs):
    """`created_by` is the Slack user the silence is recorded for. The silence lasts
    `duration_seconds` from `starts_at` (default now), or until `ends_at`: exactly one of the two."""

    matchers: Annotated[list[Matcher], Field(min_length=1, max_length=20)]
    comment: Text
    created_by: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    duration_seconds: Annotated[float, Field(gt=0, le=MAX_SILENCE_SECONDS)] | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _one_end(self) -> Self:
        if (self.duration_seconds is None) == (self.ends_at is None):
            raise ValueError("give either duration_seconds or ends_at")
        return self

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        start = self.starts_at or now
        end = self.ends_at or start + timedelta(seconds=self.duration_seconds or 0)
        return start, end

    @property
    def matcher_text(self) -> str:
        return ", ".join(str(m) for m in self.matchers)


class SilenceIdArgs(ActionArgs):
    silence_id: UUID


class _AlertmanagerAction(Action[ArgsT]):
    def __init__(self, client: AlertmanagerClient) -> None:
        self.client = client


class ListAlerts(_AlertmanagerAction[AlertFilterArgs]):
    name = "alertmanager.list_alerts"
    description = "List the alerts Alertmanager holds, with whether each is active, silenced or inhibited."
    args_model = AlertFilterArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: AlertFilterArgs) -> ActionResult:
        alerts = await self.client.alerts(args.params())
        shown = [f"{_alert_name(a)} ({_alert_state(a)})" for a in alerts]
        summary = count(len(alerts), "alert") + (f": {listing(shown)}" if shown else "")
        return ActionResult(
            summary=summary,
            data={
                "alerts": alerts[: args.limit],
                "alert_count": len(alerts),
                "truncated": len(alerts) > args.limit,
            },
        )


class ListAlertGroups(_AlertmanagerAction[AlertFilterArgs]):
    name = "alertmanager.list_alert_groups"
    description = "List alerts as Alertmanager groups them for notification, with each group's receiver."
    args_model = AlertFilterArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: AlertFilterArgs) -> ActionResult:
        groups = [_group(group) for group in await self.client.alert_groups(args.params())]
        shown = [
            f"{_labels(g['labels'])} → {g['receiver']} ({count(g['alert_count'], 'alert')})" for g in groups
        ]
        summary = count(len(groups), "group") + (f": {listing(shown)}" if shown else "")
        return ActionResult(
            summary=summary,
            data={
                "groups": groups[: args.limit],
                "group_count": len(groups),
                "truncated": len(groups) > args.limit,
            },
        )


class ListSilences(_AlertmanagerAction[SilencesArgs]):
    name = "alertmanager.list_silences"
    description = "List silences (active and pending; expired ones on request)."
    args_model = SilencesArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: SilencesArgs) -> ActionResult:
        silences = [
            _silence(s)
            for s in await self.client.silences(args.matchers)
            if args.include_expired or s["status"]["state"] != "expired"
        ]
        shown = [f"{s['matchers_text']} until {_when(s['ends_at'])} ({s['state']})" for s in silences]
        summary = count(len(silences), "silence") + (f": {listing(shown)}" if shown else "")
        return ActionResult(
            summary=summary,
            data={
                "silences": silences[: args.limit],
                "silence_count": len(silences),
                "truncated": len(silences) > args.limit,
            },
        )


class CreateSilence(Rehearsed, _AlertmanagerAction[CreateSilenceArgs]):
    name = "alertmanager.create_silence"
    description = "Silence the alerts that match label matchers for a while, with a comment and its author."
    args_model = CreateSilenceArgs
    effect = Effect.WRITE
    timeout_seconds = 30.0

    async def run(self, args: CreateSilenceArgs) -> ActionResult:
        start, end = args.window(datetime.now(UTC))
        body = {
            "matchers": [m.wire() for m in args.matchers],
            "startsAt": _timestamp(start),
            "endsAt": _timestamp(end),
            "createdBy": args.created_by,
            "comment": args.comment,
        }
        silence_id = await self.client.create_silence(body)
        return ActionResult(
            summary=f"silenced {args.matcher_text} {_span(start, end)} (silence {silence_id})",
            data={
                "silence_id": silence_id,
                "matchers": [str(m) for m in args.matchers],
                "starts_at": body["startsAt"],
                "ends_at": body["endsAt"],
                "created_by": args.created_by,
                "comment": args.comment,
            },
        )

    async def rehearse(self, args: CreateSilenceArgs) -> ActionResult:
        """Which alerts the matchers catch right now (silenced or not): what the silence would hide."""
        start, end = args.window(datetime.now(UTC))
        alerts = await self.client.alerts({"filter": [str(m) for m in args.matchers]})
        shown = [_alert_name(a) for a in alerts]
        caught = count(len(alerts), "alert") + (f" ({listing(shown)})" if shown else "")
        return ActionResult(
            summary=f"would silence {args.matcher_text} {_span(start, end)}; matches {caught} now",
            data={
                "matchers": [str(m) for m in args.matchers],
                "starts_at": _timestamp(start),
                "ends_at": _timestamp(end),
                "matching_alerts": [{"fingerprint": a["fingerprint"], "labels": a["labels"]} for a in alerts],
            },
        )

    def rollback(self, args: CreateSilenceArgs, result: ActionResult) -> RollbackStep:
        silence_id = result.data["silence_id"]
        return RollbackStep(
            action=ExpireSilence.name,
            args={"silence_id": silence_id},
            description=f"expire silence {silence_id} on {args.matcher_text}",
        )


class ExpireSilence(Rehearsed, _AlertmanagerAction[SilenceIdArgs]):
    name = "alertmanager.expire_silence"
    description = "Expire (end) a silence, so the alerts it hid notify again."
    args_model = SilenceIdArgs
    effect = Effect.WRITE
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: SilenceIdArgs) -> ActionResult:
        before = _silence(await self.client.silence(args.silence_id))
        if before["state"] == "expired":
            summary = f"silence {args.silence_id} on {before['matchers_text']} had already expired"
        else:
            await self.client.expire_silence(args.silence_id)
            summary = f"expired silence {args.silence_id} on {before['matchers_text']}"
        return ActionResult(summary=summary, data={"silence_id": str(args.silence_id), "previous": before})

    async def rehearse(self, args: SilenceIdArgs) -> ActionResult:
        silence = _silence(await self.client.silence(args.silence_id))
        summary = (
            f"would expire silence {args.silence_id} on {silence['matchers_text']} "
            f"({silence['state']}, by {silence['created_by']}, until {_when(silence['ends_at'])})"
        )
        return ActionResult(summary=summary, data={"silence_id": str(args.silence_id), "previous": silence})

    def rollback(self, args: SilenceIdArgs, result: ActionResult) -> RollbackStep | None:
        """Re-create the silence as it was; nothing to undo when it had already expired."""
        previous = result.data["previous"]
        if previous["state"] == "expired":
            return None
        restore: dict[str, Any] = {
            "matchers": previous["matchers"],
            "ends_at": previous["ends_at"],
            "comment": f"{previous['comment']} (restored after silence {args.silence_id} was expired)",
            "created_by": previous["created_by"],
        }
        if previous["state"] == "pending":
            restore["starts_at"] = previous["starts_at"]
        return RollbackStep(
            action=CreateSilence.name,
            args=restore,
            description=f"silence {previous['matchers_text']} again until {_when(previous['ends_at'])}",
        )


def _silence(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A silence in the tool's words; matchers in text form, ready to be create_silence arguments."""
    matchers = [str(Matcher.model_validate(m)) for m in raw.get("matchers", [])]
    return {
        "id": raw["id"],
        "state": raw["status"]["state"],
        "matchers": matchers,
        "matchers_text": ", ".join(matchers),
        "starts_at": raw["startsAt"],
        "ends_at": raw["endsAt"],
        "created_by": raw.get("createdBy", ""),
        "comment": raw.get("comment", ""),
    }


def _group(raw: Mapping[str, Any]) -> dict[str, Any]:
    alerts = raw.get("alerts", [])
    return {
        "labels": raw.get("labels", {}),
        "receiver": raw.get("receiver", {}).get("name", ""),
        "alert_count": len(alerts),
        "alerts": [
            {"fingerprint": a["fingerprint"], "labels": a["labels"], "state": _alert_state(a)} for a in alerts
        ],
    }


def _alert_name(alert: Mapping[str, Any]) -> str:
    labels = alert.get("labels", {})
    return str(labels.get("alertname") or _labels(labels))


def _alert_state(alert: Mapping[str, Any]) -> str:
    status = alert.get("status", {})
    if status.get("silencedBy"):
        return "silenced"
    if status.get("inhibitedBy"):
        return "inhibited"
    return str(status.get("state", "unknown"))


def _labels(labels: Mapping[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def _span(start: datetime, end: datetime) -> str:
    lasting = f"for {duration_words((end - start).total_seconds())} until {_when(end)}"
    if start > datetime.now(UTC) + timedelta(seconds=5):
        return f"from {_when(start)} {lasting}"
    return lasting


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _when(moment: datetime | str) -> str:
    """2026-11-26 05:01 UTC: silences last days, so the date is part of it."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
