"""Vault's answers read into models, and its TTLs shown as Vault itself writes them."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from tools.common import answers

ModelT = TypeVar("ModelT", bound=BaseModel)


class Answer(BaseModel):
    """Base for the shape of one Vault answer; built on first use, so a deployment without Vault
    never builds it."""

    model_config = ConfigDict(defer_build=True)


def parse_answer(model: type[ModelT], answer: Any, call: str) -> ModelT:
    """hvac returns the decoded JSON for a 200 and the raw response otherwise, so a 200 that is not
    JSON arrives here as a response object and is reported as a malformed answer."""
    return answers.parse_answer("vault", model, answer, call)


def duration(seconds: int) -> str:
    """Vault's own short form for a TTL: 90 → "1m30s", 3600 → "1h"."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n]
    return "".join(parts) or "0s"
