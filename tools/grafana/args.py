"""The Grafana actions' arguments: dashboards, panels, tags, time ranges and annotations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Self

from pydantic import AwareDatetime, BeforeValidator, Field, StringConstraints, model_validator

from tools.common.base import ActionArgs
from tools.grafana.links import time_param

DashboardUid = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
PanelId = Annotated[int, Field(ge=1)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
GrafanaTime = Annotated[str, BeforeValidator(time_param)]
Pixels = Annotated[int, Field(ge=100, le=4000)]


class AnnotateArgs(ActionArgs):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    tags: Annotated[tuple[Tag, ...], Field(max_length=20)] = ()
    dashboard_uid: DashboardUid | None = None
    panel_id: PanelId | None = None
    # None: now. A region annotation also has an end.
    time: AwareDatetime | None = None
    time_end: AwareDatetime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.panel_id is not None and self.dashboard_uid is None:
            raise ValueError("panel_id needs the dashboard_uid it belongs to")
        if self.time_end is not None and self.time_end <= (self.time or datetime.now(UTC)):
            raise ValueError("time_end must be after time")
        return self


class AnnotationArgs(ActionArgs):
    annotation_id: Annotated[int, Field(ge=1)]


class SearchArgs(ActionArgs):
    query: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    tags: Annotated[tuple[Tag, ...], Field(max_length=10)] = ()
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class PanelLinkArgs(ActionArgs):
    dashboard_uid: DashboardUid
    panel_id: PanelId
    from_time: GrafanaTime = "now-1h"
    to_time: GrafanaTime = "now"
    width: Pixels = 1000
    height: Pixels = 500
