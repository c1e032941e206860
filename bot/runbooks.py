"""Runbooks: per service, markdown steps a person follows, and optionally the workflow (with inputs)
that remediates the alerts the runbook names. `remediation_for` is how alert-driven incidents find
that workflow; a workspace's own runbook wins over one read from LIBRARY_DIR."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Select, case, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, library, names, paging
from bot.audit import AuditKind
from bot.clock import utcnow
from bot.db.home_models import Runbook, RunbookAlert
from bot.domain import Actor, RunbookView
from bot.errors import Conflict, NotFound, UserError
from bot.paging import Page
from bot.workflows.catalog import Catalog
from bot.workflows.forms import InvalidInputs

MAX_TITLE_LENGTH = 150
MAX_BODY_LENGTH = 12000
MAX_ALERTNAMES = 20
PAGE_SIZE = 10
_ALERTNAME = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:]{0,127}$")


@dataclass(frozen=True)
class RunbookRemediation:
    """The workflow that remediates one alert of one service, and the runbook that says so."""

    workflow: str
    inputs: Mapping[str, str]
    runbook_id: int
    runbook_title: str
    runbook_version: str


class RunbookDraft(BaseModel):
    """A runbook as written in a modal or a file, checked before it is stored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str
    title: str = Field(min_length=1, max_length=MAX_TITLE_LENGTH)
    body: str = Field(min_length=1, max_length=MAX_BODY_LENGTH)
    workflow: str | None = None
    inputs: dict[str, str] = Field(default_factory=dict)
    alertnames: list[str] = Field(default_factory=list, max_length=MAX_ALERTNAMES)

    @field_validator("service")
    @classmethod
    def _service(cls, value: str) -> str:
        return names.service(value)

    @field_validator("title", "body")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()

    @field_validator("alertnames")
    @classmethod
    def _alertnames(cls, value: list[str]) -> list[str]:
        for alertname in value:
            if not _ALERTNAME.match(alertname):
                raise ValueError(f"{alertname!r} is not an alertname (letters, digits, _ and :)")
        return sorted(set(value))

    def check_workflow(self, catalog: Catalog) -> None:
        """The workflow exists and takes the inputs given; alertnames need a workflow to run."""
        if self.workflow is None:
            if self.inputs or self.alertnames:
                raise UserError("Name the remediation workflow that the inputs and alertnames are for.")
            return
        workflow = catalog.get(self.workflow)
        unknown = sorted(set(self.inputs) - set(workflow.inputs.model_fields))
        if unknown:
            known = ", ".join(workflow.inputs.model_fields)
            raise InvalidInputs(self.workflow, dict.fromkeys(unknown, f"not an input (inputs: {known})"))


async def remediation_for(
    session: AsyncSession, *, team_id: str, service: str, alertname: str
) -> RunbookRemediation | None:
    """The remediation workflow of the runbook linked to (service, alertname) in this workspace, or
    in this deployment's files; None when no runbook names that alert."""
    own_first = case((RunbookAlert.team_id == library.FILES_TEAM, 1), else_=0)
    runbook = await session.scalar(
        select(Runbook)
        .join(RunbookAlert, RunbookAlert.runbook_id == Runbook.id)
        .where(
            library.visible_to(RunbookAlert.team_id, team_id),
            RunbookAlert.service == service.lower(),
            RunbookAlert.alertname == alertname,
            Runbook.workflow_name.is_not(None),
        )
        .order_by(own_first)
        .limit(1)
    )
    if runbook is None or runbook.workflow_name is None:
        return None
    return RunbookRemediation(
        workflow=runbook.workflow_name,
        inputs=dict(runbook.workflow_inputs),
        runbook_id=runbook.id,
        runbook_title=runbook.title,
        runbook_version=runbook.version,
    )


async def save(
    session: AsyncSession,
    *,
    actor: Actor,
    draft: RunbookDraft,
    catalog: Catalog,
    runbook_id: int | None = None,
) -> RunbookView:
    """Create a runbook, or change one written in Slack; raises Conflict when the title is taken for
    the service or an alert already has another runbook."""
    draft.check_workflow(catalog)
    now = utcnow()
    if runbook_id is None:
        row = Runbook(team_id=actor.team_id, source="", version=library.next_version(None), created_at=now)
        session.add(row)
    else:
        row = await _own(session, team_id=actor.team_id, runbook_id=runbook_id)
        library.require_editable(f"Runbook #{row.id}", row.source, row.version)
        row.version = library.next_version(row.version)
    await store(session, row, draft, team_id=actor.team_id, updated_by=actor.user_id, now=now)
    await audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        kind=AuditKind.RUNBOOK_SAVED,
        detail={"runbook_id": row.id, "service": row.service, "title": row.title, "version": row.version},
    )
    return view(row, draft.alertnames)


async def store(
    session: AsyncSession, row: Runbook, draft: RunbookDraft, *, team_id: str, updated_by: str, now: datetime
) -> None:
    """Write the draft into `row` and replace its alert links, refusing a clash as a Conflict."""
    row.service, row.title, row.body = draft.service, draft.title, draft.body
    row.workflow_name, row.workflow_inputs = draft.workflow, dict(draft.inputs)
    row.updated_by, row.updated_at = updated_by, now
    try:
        async with session.begin_nested():
            await session.flush()
            await session.execute(delete(RunbookAlert).where(RunbookAlert.runbook_id == row.id))
            session.add_all(
                RunbookAlert(team_id=team_id, service=draft.service, alertname=alertname, runbook_id=row.id)
                for alertname in draft.alertnames
            )
            await session.flush()
    except IntegrityError:
        raise Conflict(
            f"{draft.service} already has a runbook titled “{draft.title}”, or one of "
            f"{', '.join(draft.alertnames) or 'its alerts'} is linked to another of its runbooks."
        ) from None


async def get(session: AsyncSession, *, team_id: str, runbook_id: int) -> RunbookView:
    row = await session.scalar(
        select(Runbook).where(library.visible_to(Runbook.team_id, team_id), Runbook.id == runbook_id)
    )
    if row is None:
        raise NotFound(f"There is no runbook #{runbook_id} in this workspace.")
    return view(row, await _alerts_of(session, row.id))


async def for_service(
    session: AsyncSession, *, team_id: str, service: str, page: int = 0
) -> Page[RunbookView]:
    query = _visible(team_id).where(Runbook.service == names.service(service))
    return await _page_of_views(session, query, page=page, size=PAGE_SIZE)


async def about(
    session: AsyncSession, *, team_id: str, services: Collection[str], limit: int
) -> list[RunbookView]:
    """Runbooks of any of `services` this workspace sees, at most `limit`."""
    rows = await session.scalars(_visible(team_id).where(Runbook.service.in_(sorted(services))).limit(limit))
    return [view(row, await _alerts_of(session, row.id)) for row in rows.all()]


async def listing(
    session: AsyncSession, *, team_id: str, page: int = 0, size: int = PAGE_SIZE
) -> Page[RunbookView]:
    return await _page_of_views(session, _visible(team_id), page=page, size=size)


def view(row: Runbook, alertnames: Sequence[str]) -> RunbookView:
    return RunbookView(
        id=row.id,
        service=row.service,
        title=row.title,
        body=row.body,
        workflow=row.workflow_name,
        inputs=dict(row.workflow_inputs),
        alertnames=sorted(alertnames),
        source=row.source,
        version=row.version,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _visible(team_id: str) -> Select[tuple[Runbook]]:
    return (
        select(Runbook)
        .where(library.visible_to(Runbook.team_id, team_id))
        .order_by(Runbook.service, Runbook.title, Runbook.id)
    )


async def _page_of_views(
    session: AsyncSession, query: Select[tuple[Runbook]], *, page: int, size: int
) -> Page[RunbookView]:
    """One page of runbooks, each with its alertnames, in one statement."""
    alerts = (
        select(func.aggregate_strings(RunbookAlert.alertname, ","))
        .where(RunbookAlert.runbook_id == Runbook.id)
        .scalar_subquery()
    )
    rows = await paging.fetch_rows(session, query.add_columns(alerts), page=page, size=size)
    return rows.map(lambda row: view(row[0], row[1].split(",") if row[1] else []))


async def _alerts_of(session: AsyncSession, runbook_id: int) -> list[str]:
    rows = await session.scalars(select(RunbookAlert.alertname).where(RunbookAlert.runbook_id == runbook_id))
    return list(rows.all())


async def _own(session: AsyncSession, *, team_id: str, runbook_id: int) -> Runbook:
    """A runbook this workspace may change: its own, or a file's (which require_editable refuses)."""
    row = await session.scalar(
        select(Runbook)
        .where(library.visible_to(Runbook.team_id, team_id), Runbook.id == runbook_id)
        .with_for_update()
    )
    if row is None:
        raise NotFound(f"There is no runbook #{runbook_id} in this workspace.")
    return row
