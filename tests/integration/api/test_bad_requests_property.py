"""Hundreds of odd bodies, queries and paths thrown at the API of one running bot: none gets a 5xx or
logs an error, and each refusal says why in the API's error shape."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.api.conftest import Answer, ApiBot

EXAMPLES = 300
T = TypeVar("T")

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
keys = st.sampled_from(["workflow", "inputs", "intent"]) | st.text(max_size=10)
workflow_inputs = st.dictionaries(
    st.sampled_from(["name", "namespace", "count", "kind", "check"]) | st.text(max_size=6), values, max_size=4
)
bodies = (
    st.dictionaries(keys, values, max_size=4)
    | st.fixed_dictionaries(
        {
            "workflow": st.sampled_from(["scale_service", "helm_release", "nope"]) | st.text(max_size=10),
            "inputs": workflow_inputs,
        }
    )
    | st.fixed_dictionaries({"intent": st.text(max_size=80)})
    | values
)
query_values = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
queries = st.dictionaries(
    st.sampled_from(["limit", "cursor", "status", "requester"]) | st.text(max_size=6),
    query_values,
    max_size=4,
)
paths = st.sampled_from(["/api/v1/plans/{n}", "/api/v1/plans/{n}/cancel", "/api/v1/plans/{n}/events"])


async def test_odd_requests_get_no_5xx_and_a_reason(api: ApiBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    loop = asyncio.get_running_loop()

    def on_loop(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=30)

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        kind = data.draw(st.sampled_from(["body", "query", "path"]), label="kind")
        if kind == "body":
            body = json.dumps(data.draw(bodies, label="body")).encode()
            answer = on_loop(
                api.call("POST", "/api/v1/plans", data=body, headers={"Content-Type": "application/json"})
            )
        elif kind == "query":
            answer = on_loop(api.call("GET", "/api/v1/plans", params=data.draw(queries, label="query")))
        else:
            # Ids no plan made here reaches: an open plan's event stream would wait for it to end.
            number = data.draw(st.integers(min_value=10**6, max_value=2**40) | st.just(0), label="plan id")
            path = data.draw(paths, label="path").format(n=number)
            answer = on_loop(api.call("POST" if path.endswith("cancel") else "GET", path))
        assert answer.status < 500, answer
        if answer.status >= 400:
            assert _explained(answer), answer
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
        assert errors == []

    await asyncio.to_thread(check)


def _explained(answer: Answer) -> bool:
    return isinstance(answer.body, dict) and answer.body.get("error") and bool(answer.body.get("message"))
