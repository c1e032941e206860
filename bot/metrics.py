"""Prometheus metrics the service exports on /metrics; one module so names stay consistent."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
# Requests to the planner's model (bot/llm/model.py), by purpose (plan, investigate) and outcome
# (ok, unavailable): tokens as the provider counted them, cost from PLANNER_PRICES.
MODEL_REQUESTS = Counter(
    "carapulse_model_requests_total",
    "Requests to the planner's model",
    ["provider", "model", "purpose", "outcome"],
)
MODEL_TOKENS = Counter(
    "carapulse_model_tokens_total",
    "Tokens the planner's model read and wrote",
    ["provider", "model", "direction"],
)
MODEL_COST = Counter(
    "carapulse_model_cost_usd_total",
    "What the planner's model cost in US dollars, for models with a price in PLANNER_PRICES",
    ["provider", "model"],
)
MODEL_SECONDS = Histogram(
    "carapulse_model_request_seconds",
    "Time from sending a request to the planner's model to its answer, retries included",
    ["provider", "purpose"],
    buckets=(0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120),
)
