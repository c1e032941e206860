"""The Alertmanager API v2 as the alertmanager tool uses it: alerts, alert groups and silences.

Also the label matcher, in both of Alertmanager's spellings: the JSON object of a silence
(`{"name", "value", "isRegex", "isEqual"}`) and the text of a `filter` parameter (`service=~"check.*"`),
so a plan can write either and the tool sends each where it belongs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from tools.common.base import ToolError
from tools.common.http import HttpStatusError, JsonHttpClient

LabelName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")]
_MATCHER_TEXT = re.compile(r"^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")
_OPERATORS = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}


class Matcher(BaseModel):
    """One label matcher. Accepts `{"name", "value", "isRegex", "isEqual"}` (or snake_case keys) or
    the text form `name="value"` / `name!=value` / `name=~"re"` / `name!~"re"`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: LabelName
    value: Annotated[str, StringConstraints(max_length=1000)]
    is_regex: bool = Field(default=False, alias="isRegex")
    is_equal: bool = Field(default=True, alias="isEqual")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, raw: Any) -> Any:
        if not isinstance(raw, str):
            return raw
        found = _MATCHER_TEXT.match(raw)
        if found is None:
            raise ValueError(f'{raw!r} is not a matcher like name="value", name!=value or name=~"regex"')
        name, operator, value = found.groups()
        return {
            "name": name,
            "value": _unquote(value),
            "is_regex": "~" in operator,
            "is_equal": not operator.startswith("!"),
        }

    def wire(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "isRegex": self.is_regex, "isEqual": self.is_equal}

    def __str__(self) -> str:
        quoted = json.dumps(self.value, ensure_ascii=False)
        return f"{self.name}{_OPERATORS[(self.is_regex, self.is_equal)]}{quoted}"


class AlertmanagerClient:
    def __init__(self, http: JsonHttpClient) -> None:
        self.http = http

    @property
    def url(self) -> str:
        return self.http.base_url

    async def close(self) -> None:
        await self.http.close()

    async def alerts(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        return list(await self.http.get("/api/v2/alerts", params=params))

    async def alert_groups(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        return list(await self.http.get("/api/v2/alerts/groups", params=params))

    async def silences(self, matchers: Sequence[Matcher]) -> list[dict[str, Any]]:
        params = {"filter": [str(m) for m in matchers]}
        return list(await self.http.get("/api/v2/silences", params=params))

    async def silence(self, silence_id: UUID) -> dict[str, Any]:
        try:
            return dict(await self.http.get(f"/api/v2/silence/{silence_id}"))
        except HttpStatusError as error:
            if error.status != 404:
                raise
            message = f"alertmanager: silence {silence_id} not found (it may have been garbage-collected)"
            raise ToolError(message, call=error.call, status=404) from None

    async def create_silence(self, body: Mapping[str, Any]) -> str:
        """POST a new silence. Never retried: a POST that reached Alertmanager already made one."""
        answer = await self.http.request("POST", "/api/v2/silences", json_body=body, repeatable=False)
        if not isinstance(answer.body, dict) or "silenceID" not in answer.body:
            raise ToolError(
                "alertmanager: POST /api/v2/silences answered without a silenceID",
                call="POST /api/v2/silences",
            )
        return str(answer.body["silenceID"])

    async def expire_silence(self, silence_id: UUID) -> None:
        """DELETE expires the silence; expiring an expired one again is a no-op, so it is retried."""
        await self.http.request("DELETE", f"/api/v2/silence/{silence_id}", repeatable=True, expect_json=False)


def alertmanager_error(body: Any) -> str | None:
    """Alertmanager's error text: a JSON string ("silence invalid: …"), or go-swagger's
    `{"code", "message"}` for a request that breaks the API schema. Plain text is left to the
    HTTP client, which quotes its first line."""
    if isinstance(body, str):
        return body
    if isinstance(body, dict):
        return body.get("message") or body.get("error")
    return None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return str(json.loads(value))
        except ValueError:
            return value[1:-1]
    return value
