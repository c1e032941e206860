"""Events of a namespace or of one object, newest first, as `kubectl events` shows them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from tools.common.base import ActionResult, Effect
from tools.kubernetes.action import KubernetesAction
from tools.kubernetes.args import NamespaceArgs, ObjectName
from tools.kubernetes.resources import Page

if TYPE_CHECKING:
    from kubernetes.client import CoreV1Event

    from tools.kubernetes.client import KubernetesClient

KindName = Annotated[str, StringConstraints(max_length=63, pattern=r"^[A-Z][A-Za-z0-9]*$")]
# The API server lists events in name order, not by time: read this many, then sort.
SCAN_LIMIT = 1000
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class EventView:
    type: str
    reason: str
    message: str
    object: str
    count: int
    last_seen: str
    source: str

    @classmethod
    def of(cls, event: CoreV1Event) -> EventView:
        involved = event.involved_object
        source = event.reporting_component or (event.source.component if event.source else "") or ""
        seen = _last_seen(event)
        return cls(
            type=event.type or "",
            reason=event.reason or "",
            message=(event.message or "").strip(),
            object=f"{involved.kind}/{involved.name}",
            count=_count(event),
            last_seen="" if seen is _NEVER else seen.isoformat(),
            source=source,
        )

    def line(self) -> str:
        repeated = f" (x{self.count})" if self.count > 1 else ""
        return f"{self.type} {self.reason} {self.object}: {self.message}{repeated}"


async def recent_events(
    client: KubernetesClient,
    namespace: str,
    *,
    kind: str | None = None,
    name: str | None = None,
    event_type: str | None = None,
    limit: int,
) -> Page[EventView]:
    """The `limit` newest events, filtered by the API server on the involved object and type."""
    selectors = {"involvedObject.kind": kind, "involvedObject.name": name, "type": event_type}
    field_selector = ",".join(f"{key}={value}" for key, value in selectors.items() if value) or None
    page = await client.list_events(namespace, field_selector=field_selector, max_items=SCAN_LIMIT)
    # Timestamps have whole seconds, so ties are common. Recorders name an event "<object>.<hex nanos>"
    # and the server lists by name: within a tie, later in the list is newer for the same object.
    newest = sorted(reversed(page.items), key=_last_seen, reverse=True)
    return Page([EventView.of(e) for e in newest[:limit]], more=page.more or len(newest) > limit)


class ListEventsArgs(NamespaceArgs):
    kind: KindName | None = None
    name: ObjectName | None = None
    type: Literal["Normal", "Warning"] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 20

    @model_validator(mode="after")
    def _name_needs_kind(self) -> ListEventsArgs:
        if self.name is not None and self.kind is None:
            raise ValueError("name needs kind (e.g. Deployment, Pod, Node): names are unique per kind only")
        return self


class ListEvents(KubernetesAction[ListEventsArgs]):
    name = "kubernetes.list_events"
    description = "Show the newest events of a namespace or of one object (kind and name)."
    args_model = ListEventsArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: ListEventsArgs) -> ActionResult:
        client = await self.client(args)
        page = await recent_events(
            client, args.namespace, kind=args.kind, name=args.name, event_type=args.type, limit=args.limit
        )
        where = _scope(args)
        if not page.items:
            return ActionResult(summary=f"no events for {where}", data={"events": [], "more": False})
        more = "+" if page.more else ""
        summary = f"{len(page.items)}{more} events for {where}, newest: {page.items[0].line()}"
        return ActionResult(
            summary=summary, data={"events": [asdict(e) for e in page.items], "more": page.more}
        )


def _scope(args: ListEventsArgs) -> str:
    if args.name is not None:
        return f"{args.kind}/{args.name} in {args.namespace}"
    if args.kind is not None:
        return f"{args.kind} objects in {args.namespace}"
    return f"namespace {args.namespace}"


def _last_seen(event: CoreV1Event) -> datetime:
    """When the event last happened: events.k8s.io writers set eventTime and series, older ones
    lastTimestamp; creationTimestamp is the last resort."""
    series = event.series.last_observed_time if event.series else None
    for moment in (series, event.last_timestamp, event.event_time, event.first_timestamp):
        if moment is not None:
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    created = event.metadata.creation_timestamp if event.metadata else None
    return created or _NEVER


def _count(event: CoreV1Event) -> int:
    if event.series and event.series.count:
        return int(event.series.count)
    return int(event.count or 1)
