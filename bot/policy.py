"""Asks the Rego policy every question the plan services have: may this plan be created, may this
person approve or cancel it, may it run now. Roles and environments come from configuration."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.clock import utcnow
from bot.domain import Actor, PolicyDecision, RiskLevel, StepSpec
from bot.errors import PolicyDenied
from bot.policy_engine import (
    AccessAction,
    EnvironmentConfig,
    Freeze,
    GuardedPolicy,
    PolicyAction,
    PolicyInput,
    PolicyPlan,
    PolicyResult,
    PolicyStep,
    PolicyUser,
)


@dataclass(frozen=True)
class PlanFacts:
    """What the policy needs to know about a plan, stored or still a draft."""

    requester_id: str
    environment: str
    steps: Sequence[StepSpec]
    targets: Sequence[str]
    # How many services depend on the plan's target (the context graph); 0 when unknown.
    dependents: int = 0


@dataclass(frozen=True)
class Policy:
    engine: GuardedPolicy
    environments: Mapping[str, EnvironmentConfig]
    roles: Mapping[str, Sequence[str]] = field(default_factory=dict)
    default_roles: Sequence[str] = ("viewer",)
    read_actions: frozenset[str] = frozenset()
    risk_hints: Mapping[str, str] = field(default_factory=dict)
    max_targets: int = 50
    approval_ttl: timedelta = timedelta(hours=4)

    def decide(
        self,
        action: PolicyAction,
        *,
        actor: Actor,
        plan: PlanFacts,
        approver_ids: Iterable[str] = (),
        freezes: Sequence[Freeze] = (),
    ) -> PolicyResult:
        """Anything not known to be a read counts as a write, so an unknown action fails closed."""
        user = self._actor(actor)
        return self.engine.decide(
            PolicyInput(
                action=action,
                actor=user,
                requester=user if plan.requester_id == actor.user_id else self._user(plan.requester_id),
                plan=PolicyPlan(
                    environment=plan.environment,
                    steps=[self._step(step) for step in plan.steps],
                    targets=list(plan.targets),
                    dependents=plan.dependents,
                ),
                approvals=[self._user(user_id) for user_id in approver_ids],
                environments=dict(self.environments),
                freezes=list(freezes),
                now=utcnow(),
                max_targets=self.max_targets,
            )
        )

    def require(self, action: AccessAction, *, actor: Actor) -> None:
        """Raise PolicyDenied with the policy's reason unless `actor` may do `action`, which concerns
        no plan (reading the audit log)."""
        result = self.decide(action, actor=actor, plan=_NO_PLAN)
        if not result.allow:
            raise PolicyDenied(refusal(result))

    def is_admin(self, user_id: str) -> bool:
        return "admin" in self._user(user_id).roles

    def _actor(self, actor: Actor) -> PolicyUser:
        """A pipeline brings its own roles and claims (bot/api); a person's roles are configured."""
        if actor.pipeline is None:
            return self._user(actor.user_id)
        return PolicyUser(
            user_id=actor.user_id,
            roles=list(actor.pipeline.roles),
            pipeline=True,
            claims=dict(actor.pipeline.claims),
        )

    def _user(self, user_id: str) -> PolicyUser:
        return PolicyUser(user_id=user_id, roles=list(self.roles.get(user_id, self.default_roles)))

    def _step(self, step: StepSpec) -> PolicyStep:
        tool, _, verb = step.action.partition(".")
        effect = "read" if step.action in self.read_actions else "write"
        return PolicyStep(
            stage=step.stage,
            tool=tool,
            action=verb or tool,
            effect=effect,
            risk=_higher(self.risk_hints.get(step.action), step.risk),  # type: ignore[arg-type]
        )


_NO_PLAN = PlanFacts(requester_id="", environment="", steps=(), targets=())


def as_decision(result: PolicyResult) -> PolicyDecision:
    return PolicyDecision(
        allow=result.allow,
        required_approvals=result.required_approvals,
        reasons=result.reasons,
        break_glass_offered=result.break_glass_offered,
    )


def as_record(result: PolicyResult) -> dict[str, Any]:
    """The decision as an audit event carries it (allow, approvals, reasons)."""
    return as_decision(result).model_dump(mode="json")


def refusal(result: PolicyResult) -> str:
    """The sentence to show when the policy says no: its first reason, which is a denial."""
    return result.reasons[0] if result.reasons else "Denied by policy."


def _higher(hint: str | None, floor: RiskLevel | None) -> str | None:
    """The riskier of an action's own hint and the step's floor; either may be missing."""
    known = [str(level) for level in (hint, floor) if level is not None]
    return max(known, key=_LEVELS.index, default=None)


_LEVELS = [level.value for level in RiskLevel]
