"""The Policy adapter: what it tells the Rego policy about each step."""

from __future__ import annotations

import dataclasses

from bot.api.identities import oidc_actor, token_actor
from bot.domain import RiskLevel, StepSpec, StepStage
from bot.policy import PlanFacts
from bot.policy_engine import PolicyInput, PolicyResult
from tests.builders import ALICE, POLICY


def _facts(action: str) -> PlanFacts:
    step = StepSpec(stage=StepStage.ACT, action=action, args={}, description=action)
    return PlanFacts(requester_id=ALICE.user_id, environment="test", steps=[step], targets=["node/n1"])


def test_a_tools_risk_hint_raises_the_plans_risk() -> None:
    hinted = dataclasses.replace(POLICY, risk_hints={"kubernetes.node_cordon": "high"})

    plain = POLICY.decide("plan.create", actor=ALICE, plan=_facts("kubernetes.node_cordon"))
    raised = hinted.decide("plan.create", actor=ALICE, plan=_facts("kubernetes.node_cordon"))

    assert (plain.risk.level, plain.required_approvals) == ("medium", 1)
    assert (raised.risk.level, raised.required_approvals) == ("high", 2)


def test_an_action_not_known_as_a_read_is_treated_as_a_write() -> None:
    result = POLICY.decide("plan.create", actor=ALICE, plan=_facts("mystery.peek"))

    assert result.risk.level == "medium"
    assert result.required_approvals == 1


def test_a_steps_risk_floor_raises_the_plans_risk_but_never_lowers_it() -> None:
    def floored(action: str, floor: RiskLevel) -> PlanFacts:
        plain = _facts(action)
        step = plain.steps[0].model_copy(update={"risk": floor})
        return dataclasses.replace(plain, steps=[step])

    hinted = dataclasses.replace(POLICY, risk_hints={"vault.rotate_role_credentials": "high"})

    raised = POLICY.decide("plan.create", actor=ALICE, plan=floored("vault.write_secret", RiskLevel.HIGH))
    kept = hinted.decide(
        "plan.create", actor=ALICE, plan=floored("vault.rotate_role_credentials", RiskLevel.LOW)
    )
    not_lowered = POLICY.decide(
        "plan.create", actor=ALICE, plan=floored("kubernetes.delete_pod", RiskLevel.LOW)
    )

    assert (raised.risk.level, raised.required_approvals) == ("high", 2)
    assert (kept.risk.level, kept.required_approvals) == ("high", 2)
    assert not_lowered.risk.level == "high"


def test_a_pipeline_acts_with_its_own_roles_and_claims_not_those_configured_for_people() -> None:
    viewer = token_actor(ALICE.team_id, "deploy", ["viewer"])
    operator = token_actor(ALICE.team_id, "deploy", ["operator"])
    facts = dataclasses.replace(_facts("kubernetes.scale_deployment"), requester_id=operator.user_id)
    # POLICY gives everyone not named operator and approver; a pipeline's own roles win.
    refused = POLICY.decide("plan.create", actor=viewer, plan=facts)
    allowed = POLICY.decide("plan.create", actor=operator, plan=facts)
    approving = POLICY.decide("plan.approve", actor=operator, plan=_facts("kubernetes.scale_deployment"))

    assert not refused.allow
    assert "Denied: planning a write needs the operator or admin role" in refused.reasons
    assert allowed.allow
    assert not approving.allow
    assert (
        "Denied: a pipeline cannot approve, decide on an interrupted plan or break glass" in approving.reasons
    )


def test_a_pipelines_claims_reach_the_policy_input() -> None:
    seen: list[PolicyInput] = []

    class Recording:
        def decide(self, document: PolicyInput) -> PolicyResult:
            seen.append(document)
            return POLICY.engine.decide(document)

    pipeline = oidc_actor(
        ALICE.team_id, "shop-deploy", ["operator"], {"repository": "acme/shop", "ref": "main"}
    )
    recording = dataclasses.replace(POLICY, engine=Recording())  # type: ignore[arg-type]

    recording.decide(
        "plan.create", actor=pipeline, plan=dataclasses.replace(_facts("x.y"), requester_id=pipeline.user_id)
    )

    actor = seen[0].document()["actor"]
    assert actor == {
        "user_id": "oidc:shop-deploy",
        "roles": ["operator"],
        "pipeline": True,
        "claims": {"repository": "acme/shop", "ref": "main"},
    }
    assert seen[0].document()["requester"] == actor
