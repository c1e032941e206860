"""Prometheus query results read as plain samples, and the few ways a person is shown them.

One shape for vector, matrix and scalar answers, so the query summaries and the threshold check read a
result the same way. Pure functions: no I/O, no clock.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tools.common.base import ToolError

Comparator = Literal["<", "<=", ">", ">=", "==", "!="]

COMPARATORS: Mapping[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class Sample:
    labels: Mapping[str, str]
    timestamp: float
    value: float


def samples(data: Mapping[str, Any]) -> Iterator[Sample]:
    """Every float sample of a query answer's `data` (vector, matrix or scalar).

    Native histogram samples have no single value and are skipped; a string result has no number at all
    and is refused, so a check never passes on something it could not compare.
    """
    kind = data.get("resultType")
    result = data.get("result")
    if kind == "vector":
        for series in result or []:
            if "value" in series:
                yield _sample(series.get("metric", {}), series["value"])
    elif kind == "matrix":
        for series in result or []:
            for point in series.get("values", []):
                yield _sample(series.get("metric", {}), point)
    elif kind == "scalar":
        yield _sample({}, result)
    else:
        raise ToolError(f"prometheus: the expression returned a {kind} result, not numbers", call="query")


def series_name(labels: Mapping[str, str]) -> str:
    """Prometheus's own spelling of a series: `name{label="value", …}`, `{}` for an unnamed one."""
    name = labels.get("__name__", "")
    pairs = ", ".join(f'{key}="{value}"' for key, value in sorted(labels.items()) if key != "__name__")
    return f"{name}{{{pairs}}}" if pairs or not name else name


def format_value(value: float) -> str:
    """Short and exact enough for a sentence: 0.031, 12, 1.5e+09, NaN, +Inf."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def value_range(found: Sequence[Sample]) -> str:
    """ "min 0.001, max 0.031" over the finite samples, or "" when there are none."""
    finite = [s.value for s in found if math.isfinite(s.value)]
    if not finite:
        return ""
    return f"min {format_value(min(finite))}, max {format_value(max(finite))}"


def _sample(labels: Mapping[str, str], point: Sequence[Any]) -> Sample:
    # Values travel as strings so that NaN and ±Inf survive JSON; float() reads all three spellings.
    timestamp, value = point
    return Sample(labels=labels, timestamp=float(timestamp), value=float(value))
