"""Decisions end to end through the compiled Rego bundle."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.policy_engine import PolicyEngine, PolicyInput, PolicyResult, PolicyUnavailable

POLICIES = Path(__file__).resolve().parents[3] / "policies"
NOON = datetime(2024, 6, 1, 12, tzinfo=UTC)
OPERATOR = {"user_id": "UO", "roles": ["operator"]}
APPROVER = {"user_id": "UA", "roles": ["approver"]}
ADMIN = {"user_id": "UX", "roles": ["admin"]}
SCALE = {"stage": "act", "tool": "kubernetes", "action": "scale", "effect": "write"}
DELETE = {"stage": "act", "tool": "kubernetes", "action": "delete", "effect": "write"}
STATUS = {"stage": "verify", "tool": "kubernetes", "action": "rollout_status", "effect": "read"}
ENVIRONMENTS = {
    "prod": {"production": True},
    "dev": {},
    "night": {"maintenance_windows": [{"start": "22:00", "end": "02:00", "timezone": "Europe/Berlin"}]},
}


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine(POLICIES)


def decide(engine: PolicyEngine, **overrides: Any) -> PolicyResult:
    request: dict[str, Any] = {
        "action": "plan.create",
        "actor": OPERATOR,
        "requester": OPERATOR,
        "plan": {"environment": "prod", "steps": [SCALE, STATUS], "targets": ["deployment/shop/checkout"]},
        "environments": ENVIRONMENTS,
        "now": NOON,
    }
    plan = overrides.pop("plan", {})
    request["plan"] = {**request["plan"], **plan}
    return engine.decide(PolicyInput.model_validate({**request, **overrides}))


def test_viewer_cannot_plan_a_write(engine: PolicyEngine) -> None:
    result = decide(engine, actor={"user_id": "UV", "roles": ["viewer"]})
    assert not result.allow
    assert "Denied: planning a write needs the operator or admin role" in result.reasons


def test_viewer_may_plan_a_read(engine: PolicyEngine) -> None:
    result = decide(engine, actor={"user_id": "UV"}, plan={"steps": [STATUS]})
    assert result.allow
    assert result.required_approvals == 0
    assert result.risk.level == "read"


def test_operator_prod_medium_write_needs_one_approval(engine: PolicyEngine) -> None:
    result = decide(engine)
    assert result.allow
    assert result.required_approvals == 1
    assert result.approver_roles == ["admin", "approver"]
    assert result.reasons == ["Needs 1 approval from approver or admin (prod, medium risk)"]
    assert (result.risk.level, result.risk.blast_radius) == ("medium", "namespace")


def test_high_risk_needs_two_approvals(engine: PolicyEngine) -> None:
    assert decide(engine, plan={"steps": [DELETE]}).required_approvals == 2
    one = decide(engine, action="plan.execute", plan={"steps": [DELETE]}, approvals=[APPROVER])
    assert not one.allow
    assert one.break_glass_required
    two = decide(engine, action="plan.execute", plan={"steps": [DELETE]}, approvals=[APPROVER, ADMIN])
    assert two.allow


def test_requesters_own_approval_is_not_counted(engine: PolicyEngine) -> None:
    own = {"user_id": "UO", "roles": ["approver"]}
    assert not decide(engine, action="plan.approve", actor=own, requester=own).allow
    result = decide(engine, action="plan.execute", requester=own, approvals=[own])
    assert result.counted_approvals == []
    assert not result.allow


def test_frozen_environment_is_denied_with_until_and_reason(engine: PolicyEngine) -> None:
    freeze = {"environment": "prod", "until": datetime(2024, 6, 1, 18, tzinfo=UTC), "reason": 'release "v2"'}
    result = decide(engine, freezes=[freeze])
    assert not result.allow
    assert "Denied: prod is frozen until 18:00 UTC (release 'v2')" in result.reasons


def test_unknown_environment_is_denied(engine: PolicyEngine) -> None:
    result = decide(engine, plan={"environment": "qa"})
    assert not result.allow
    assert "Denied: environment qa is not configured" in result.reasons


def test_more_than_max_targets_is_denied(engine: PolicyEngine) -> None:
    targets = [f"deployment/shop/app-{n}" for n in range(51)]
    result = decide(engine, plan={"environment": "dev", "targets": targets})
    assert not result.allow
    assert result.risk.blast_radius == "account"
    assert decide(engine, plan={"environment": "dev", "targets": targets}, max_targets=100).allow


@pytest.mark.parametrize(
    ("now", "allowed"),
    [
        (datetime(2024, 6, 1, 20, 30, tzinfo=UTC), True),  # 22:30 in Berlin
        (datetime(2024, 6, 1, 23, 30, tzinfo=UTC), True),  # 01:30 the next day
        (datetime(2024, 6, 2, 0, 0, tzinfo=UTC), False),  # 02:00, the window has closed
        (NOON, False),
    ],
)
def test_maintenance_window_wrapping_midnight(engine: PolicyEngine, now: datetime, allowed: bool) -> None:
    result = decide(
        engine, action="plan.execute", plan={"environment": "night"}, approvals=[APPROVER], now=now
    )
    assert result.allow is allowed
    assert result.break_glass_required is not allowed


@pytest.mark.parametrize("now", ["2024-06-01T20:30:00Z", "2024-06-01T22:30:00+02:00"])
def test_timestamps_reach_the_policy_with_an_offset_whatever_their_spelling(
    engine: PolicyEngine, now: str
) -> None:
    """Rego's time.parse_rfc3339_ns rejects a trailing "Z", so the input document spells UTC as
    +00:00 however the caller wrote it."""
    request = {"action": "plan.execute", "plan": {"environment": "night"}, "approvals": [APPROVER]}
    assert decide(engine, **request, now=datetime.fromisoformat(now)).allow
    freeze = {"environment": "prod", "until": "2024-06-01T18:00:00Z", "reason": "release"}
    frozen = decide(engine, freezes=[freeze])
    assert "Denied: prod is frozen until 18:00 UTC (release)" in frozen.reasons


def test_timestamp_without_time_zone_is_refused() -> None:
    request = {
        "action": "plan.create",
        "actor": OPERATOR,
        "requester": OPERATOR,
        "plan": {"environment": "dev", "steps": [STATUS]},
        "now": datetime(2024, 6, 1, 12),
    }
    with pytest.raises(PolicyUnavailable, match="has no time zone"):
        PolicyInput.model_validate(request).document()
