"""Policy decision latency: the prebuilt bundle against a query that recompiles every time.

The request is a prod write with approvals, a freeze that has ended and a maintenance window, so
every rule of the decision runs; a six-step plan shows what each further step costs.
Target: decide() p50 < 1 ms.

Run: python bench/policy_eval.py [count]
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.policy_engine import (
    DECISION_ENTRYPOINT,
    PolicyEngine,
    PolicyInput,
    PolicyStep,
    _documents,
    _interpreter,
    _modules,
)

POLICIES = Path(__file__).resolve().parents[1] / "policies"

REQUEST = PolicyInput.model_validate(
    {
        "action": "plan.execute",
        "actor": {"user_id": "UO", "roles": ["operator"]},
        "requester": {"user_id": "UO"},
        "plan": {
            "environment": "prod",
            "steps": [
                {"stage": "act", "tool": "kubernetes", "action": "scale", "effect": "write"},
                {"stage": "verify", "tool": "kubernetes", "action": "rollout_status", "effect": "read"},
            ],
            "targets": ["deployment/shop/checkout"],
        },
        "approvals": [{"user_id": "UA", "roles": ["approver"]}],
        "environments": {
            "prod": {
                "production": True,
                "maintenance_windows": [{"start": "22:00", "end": "02:00", "timezone": "Europe/Berlin"}],
            }
        },
        "freezes": [{"environment": "prod", "until": "2024-06-01T18:00:00+00:00", "reason": "release"}],
        "now": datetime(2024, 6, 1, 21, 0, tzinfo=UTC),
    }
)


SIX_STEPS = REQUEST.model_copy(
    update={
        "plan": REQUEST.plan.model_copy(
            update={
                "steps": [
                    *REQUEST.plan.steps,
                    PolicyStep(stage="act", tool="argocd", action="sync", effect="write"),
                    PolicyStep(stage="verify", tool="prometheus", action="query_threshold", effect="read"),
                    PolicyStep(stage="act", tool="grafana", action="create_annotation", effect="write"),
                    PolicyStep(stage="act", tool="helm", action="rollback", effect="write", risk="medium"),
                ]
            }
        )
    }
)


def main(count: int) -> None:
    engine = PolicyEngine(POLICIES)
    for _ in range(100):
        engine.decide(REQUEST)
    report("bundle, decide() incl. pydantic", [timed(lambda: engine.decide(REQUEST)) for _ in range(count)])
    report("bundle, decide() six steps", [timed(lambda: engine.decide(SIX_STEPS)) for _ in range(count)])
    document = REQUEST.document()
    report(
        "bundle, evaluate() raw document", [timed(lambda: engine.evaluate(document)) for _ in range(count)]
    )

    interpreter = _interpreter(_modules(POLICIES, tests=False), _documents(POLICIES))
    interpreter.set_input(document)
    query = DECISION_ENTRYPOINT.replace("/", ".")
    report(
        "query() recompiling each time",
        [timed(lambda: interpreter.query(f"data.{query}")) for _ in range(200)],
    )


def timed(call: object) -> float:
    started = time.perf_counter()
    call()  # type: ignore[operator]
    return (time.perf_counter() - started) * 1000


def report(label: str, samples: list[float]) -> None:
    quantiles = statistics.quantiles(samples, n=100)
    print(f"{label:<34} n={len(samples):<5} p50={quantiles[49]:.3f} ms  p99={quantiles[98]:.3f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
