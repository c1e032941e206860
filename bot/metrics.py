"""Prometheus metrics the service exports on /metrics; one module so names stay consistent."""

from __future__ import annotations

from prometheus_client import Counter

POLICY_ERRORS = Counter(
    "carapulse_policy_errors_total",
    "Policy decisions answered fail-closed because the Rego policy could not be loaded or evaluated",
    ["stage"],
)

JOBS = Counter(
    "carapulse_jobs_total",
    "Scheduled jobs run (escalation steps, notifications) by kind and outcome: done, retried, failed",
    ["kind", "outcome"],
)
