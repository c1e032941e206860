"""Alertmanager's webhook body (version 4) as a typed model: what `/hooks/alertmanager` accepts.

Fields Alertmanager may add later are ignored; the ones read are checked, with caps that keep a
hostile or broken sender from filling the database (label counts and lengths).
"""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

Key = Annotated[str, StringConstraints(max_length=128)]
Labels = Annotated[dict[Key, Annotated[str, StringConstraints(max_length=1024)]], Field(max_length=64)]
Annotations = Annotated[dict[Key, Annotated[str, StringConstraints(max_length=8192)]], Field(max_length=64)]
Url = Annotated[str, StringConstraints(max_length=4096)]
# Alertmanager writes the zero time (0001-01-01) for "no end yet".
_NO_TIME_BEFORE = datetime(1970, 1, 2, tzinfo=UTC)
MAX_ALERTS = 1000


class AlertmanagerAlert(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True, populate_by_name=True)

    status: Literal["firing", "resolved"]
    labels: Labels
    annotations: Annotations = Field(default_factory=dict)
    starts_at: AwareDatetime = Field(alias="startsAt")
    ends_at: AwareDatetime | None = Field(default=None, alias="endsAt")
    generator_url: Url = Field(default="", alias="generatorURL")
    fingerprint: Annotated[str, StringConstraints(pattern=r"^[0-9a-zA-Z]{1,64}$")]

    @field_validator("ends_at")
    @classmethod
    def _zero_time_is_none(cls, value: datetime | None) -> datetime | None:
        return None if value is None or value < _NO_TIME_BEFORE else value


class AlertmanagerWebhook(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True, populate_by_name=True)

    version: Literal["4"]
    status: Literal["firing", "resolved"]
    receiver: Annotated[str, StringConstraints(max_length=255)] = ""
    alerts: Annotated[list[AlertmanagerAlert], Field(min_length=1, max_length=MAX_ALERTS)]
    group_key: Annotated[str, StringConstraints(max_length=4096)] = Field(default="", alias="groupKey")
    external_url: Url = Field(default="", alias="externalURL")
    truncated_alerts: Annotated[int, Field(ge=0)] = Field(default=0, alias="truncatedAlerts")


def rule_expr(generator_url: str) -> str:
    """The rule's PromQL expression, read from Prometheus's graph link (`g0.expr`), or ""."""
    query = urllib.parse.urlsplit(generator_url).query
    return urllib.parse.parse_qs(query).get("g0.expr", [""])[0]
