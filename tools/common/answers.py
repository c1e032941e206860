"""Reading an API's answer into the pydantic model of the fields a tool relies on.

An answer that is not a JSON object, or lacks a field, is an upstream fault the person reading the plan
card should see named (which call, which field), not a KeyError deep inside an action.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tools.common.base import ToolError

ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_answer(tool: str, model: type[ModelT], answer: Any, call: str) -> ModelT:
    if not isinstance(answer, dict):
        raise ToolError(f"{tool}: {call} answered with something that is not a JSON object", call=call)
    try:
        return model.model_validate(answer)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        message = f"{tool}: {call} answered with an unexpected document ({where}: {error['msg']})"
        raise ToolError(message, call=call) from None
