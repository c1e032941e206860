"""Prometheus metrics the service exports on /metrics; one module so names stay consistent."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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

# Slack's requests (slash commands, buttons, modals, events), by kind, listener id and outcome, and
# the time until Slack had its answer: a request not answered within 3 s fails in front of the user.
SLACK_REQUESTS = Counter(
    "carapulse_slack_requests_total",
    "Requests from Slack by kind (command, action, view, event, shortcut, options, refused), listener "
    "id and outcome (ok, error, refused)",
    ["kind", "listener", "outcome"],
)
SLACK_ACK_SECONDS = Histogram(
    "carapulse_slack_ack_seconds",
    "Time from receiving a Slack request to answering it (the ack Slack waits 3 s for)",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5),
)
# Calls to Slack's Web API by method: outcome ok, error (Slack answered ok: false) or unreachable;
# the error code Slack gave, and every 429 received, retried or not.
SLACK_API_CALLS = Counter(
    "carapulse_slack_api_calls_total",
    "Slack Web API calls by method and outcome (ok, error, unreachable)",
    ["method", "outcome"],
)
SLACK_API_ERRORS = Counter(
    "carapulse_slack_api_errors_total",
    "Slack Web API calls answered with an error, by method and Slack's error code",
    ["method", "error"],
)
SLACK_API_RATE_LIMITED = Counter(
    "carapulse_slack_api_rate_limited_total",
    "HTTP 429 answers from Slack's Web API by method, each one counted even when the retry succeeded",
    ["method"],
)
POLICY_DECISIONS = Counter(
    "carapulse_policy_decisions_total",
    "Policy decisions by question (plan.create, plan.approve, …) and outcome (allow, deny, fail_closed)",
    ["action", "outcome"],
)
WEBHOOKS = Counter(
    "carapulse_webhooks_total",
    "Webhooks received on /hooks/<source>, by source and HTTP status of the answer",
    ["source", "status"],
)
# The worker: finished executions and every step it ran (act, verify, follow_up, rollback).
EXECUTIONS = Counter(
    "carapulse_executions_total",
    "Executions a worker of this process finished, by final status",
    ["status"],
)
STEP_SECONDS = Histogram(
    "carapulse_step_seconds",
    "Time a worker spent running one step, by tool, action, stage and outcome (succeeded, failed, cancelled)",
    ["tool", "action", "stage", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
)
WORKER_LEASES_HELD = Gauge(
    "carapulse_worker_leases_held",
    "Executions the workers of this process hold a lease on now",
)
WORKER_HEARTBEAT = Gauge(
    "carapulse_worker_heartbeat_timestamp_seconds",
    "Unix time the worker loop of this process last showed it was alive",
)
# Read from the database when /metrics is scraped (bot/metrics_db.py), so every replica reports the
# shared state; `carapulse_database_metrics_up` is 0 when that read failed or took too long.
PLANS = Gauge("carapulse_plans", "Plans in the database by status", ["status"])
QUEUE_DEPTH = Gauge(
    "carapulse_queue_depth",
    "Work waiting in the database: executions queued, scheduled jobs due and not done",
    ["queue"],
)
QUEUE_OLDEST_AGE = Gauge(
    "carapulse_queue_oldest_age_seconds",
    "How long the oldest waiting item of each queue has waited (0 when none waits)",
    ["queue"],
)
LEASES_ACTIVE = Gauge(
    "carapulse_executions_leased",
    "Running executions whose worker lease has not expired, over all workers",
)
DATABASE_METRICS_UP = Gauge(
    "carapulse_database_metrics_up",
    "1 when the last scrape read the database gauges, 0 when that failed or timed out",
)
