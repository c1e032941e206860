"""A structured label selector as the `labelSelector` query string the API server parses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools.common.base import ToolError

if TYPE_CHECKING:
    from kubernetes.client import V1LabelSelector

_OPERATORS = {"In": "in", "NotIn": "notin"}


def selector_string(selector: V1LabelSelector | None, *, owner: str) -> str:
    """matchLabels become `k=v`, matchExpressions `k in (a,b)`, `k notin (a)`, `k` or `!k`.

    An empty selector is refused rather than sent: it would select every object in the namespace.
    `owner` names whose selector it is ("deployment shop/checkout") for that error.
    """
    parts = [f"{key}={value}" for key, value in sorted(((selector and selector.match_labels) or {}).items())]
    for expression in (selector and selector.match_expressions) or []:
        if expression.operator == "Exists":
            parts.append(expression.key)
        elif expression.operator == "DoesNotExist":
            parts.append(f"!{expression.key}")
        else:
            values = ",".join(sorted(expression.values or []))
            parts.append(f"{expression.key} {_OPERATORS[expression.operator]} ({values})")
    if not parts:
        raise ToolError(f"{owner} has an empty selector; refusing to select the whole namespace")
    return ",".join(parts)
