"""incident_remediation: one remediation of a service in trouble (restart it, roll it back to the
previous revision, scale it up, or silence its alerts), with diagnostics read just before, the
rollout and a PromQL recovery check after, and a note on the PagerDuty incident it belongs to."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo, field_validator

from bot.domain import StepStage, Target
from bot.errors import UserError
from bot.reads import SERVICE_LABEL
from bot.workflows.annotations import ANNOTATE, annotation_step
from bot.workflows.base import (
    PlannedStep,
    PlanningContext,
    StepDeclaration,
    Workflow,
    WorkflowInputs,
    WorkflowPlan,
)
from bot.workflows.checks import PromqlCheck, check_step
from bot.workflows.fields import KubernetesName
from bot.workflows.sentences import Sentence, named, sentence

Remediation = Literal["restart", "rollback", "scale_up", "silence"]
_PAGERDUTY_ID = re.compile(r"^[A-Z0-9]{2,40}$")
_IN_NS = rf"(?: (?:in|-n|--namespace) (?:namespace )?{named('namespace')})?"
_MINUTES = {"m": 1, "h": 60, "d": 1440}
_LENGTH = re.compile(r"^(?P<amount>[0-9]+)(?P<unit>[mhd])$")


def minutes(length: str) -> int:
    """`2h` → 120; the text is a checked silence length."""
    match = _LENGTH.match(length)
    if match is None:
        raise ValueError(f"{length!r} is not a length like 30m, 2h or 1d")
    return int(match["amount"]) * _MINUTES[match["unit"]]


def _silence_length(length: str) -> str:
    length = length.strip().lower()
    if not 5 <= minutes(length) <= 7 * 1440:
        raise ValueError("a silence lasts from 5m to 7d")
    return length


_REMEDIATE = (
    "kubernetes.rollout_restart",
    "kubernetes.rollout_rollback",
    "kubernetes.scale",
    "alertmanager.create_silence",
)


class RemediationInputs(WorkflowInputs):
    remediation: Remediation = Field(
        title="Remediation", description="restart, rollback, scale_up or silence"
    )
    service: KubernetesName = Field(
        title="Service", description="Its Deployment, and the service label of its alerts"
    )
    namespace: KubernetesName = Field(default="default", title="Namespace")
    replicas: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        default=None, validate_default=True, title="Replicas", description="scale_up only: how many to run"
    )
    silence_for: Annotated[str, AfterValidator(_silence_length)] = Field(
        default="1h", title="Silence for", description="silence only: 30m, 2h, 1d (5m to 7d)"
    )
    alertname: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None,
        title="Alert name",
        description="silence only: just this alert (default: all of the service's)",
    )
    recovery_check: PromqlCheck | None = Field(default=None, title="Recovery check")
    incident: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None,
        title="Incident",
        description="The PagerDuty incident id (gets a note), or a link to its thread",
    )

    @field_validator("replicas")
    @classmethod
    def _scale_up_needs_a_count(cls, replicas: int | None, info: ValidationInfo) -> int | None:
        if info.data.get("remediation") == "scale_up" and replicas is None:
            raise ValueError("scale_up needs the number of replicas to run")
        return replicas


class IncidentRemediation(Workflow[RemediationInputs]):
    name: ClassVar[str] = "incident_remediation"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = (
        "Restart, roll back, scale up or silence a service in trouble, with diagnostics before and a "
        "recovery check after."
    )
    examples: ClassVar[tuple[str, ...]] = ("roll back checkout in shop", "silence checkout for 2h")
    inputs: ClassVar[type[RemediationInputs]] = RemediationInputs
    steps: ClassVar[tuple[StepDeclaration, ...]] = (
        StepDeclaration(
            "describe", StepStage.ACT, ("kubernetes.get_deployment_summary",), "Describe the Deployment"
        ),
        StepDeclaration("pods", StepStage.ACT, ("kubernetes.list_pods",), "List its pods"),
        StepDeclaration("alerts", StepStage.ACT, ("alertmanager.list_alerts",), "List its alerts"),
        StepDeclaration("remediate", StepStage.ACT, _REMEDIATE, "Apply the remediation"),
        StepDeclaration("rollout", StepStage.VERIFY, ("kubernetes.rollout_status",), "Wait for the rollout"),
        StepDeclaration(
            "recovery", StepStage.VERIFY, ("prometheus.query_threshold",), "Hold the recovery check"
        ),
        StepDeclaration(
            "note", StepStage.FOLLOW_UP, ("pagerduty.annotate_incident",), "Note it on the incident"
        ),
        StepDeclaration("annotate", StepStage.FOLLOW_UP, (ANNOTATE,), "Annotate Grafana"),
    )
    sentences: ClassVar[tuple[Sentence, ...]] = (
        sentence(
            rf"(?:roll back|rollback|undo) (?:deployment )?{named('service')}{_IN_NS}", remediation="rollback"
        ),
        sentence(
            rf"silence (?:alerts (?:of|for) )?{named('service')} for {named('silence_for', '[0-9]+[mhd]')}",
            remediation="silence",
        ),
    )

    async def plan(self, inputs: RemediationInputs, context: PlanningContext) -> WorkflowPlan:
        on_kubernetes = inputs.remediation != "silence"
        described = (
            await context.read("kubernetes.get_deployment_summary", _ref(inputs)) if on_kubernetes else {}
        )
        steps = _diagnostics(inputs, context, on_kubernetes=on_kubernetes)
        remedy, summary, rollback = _remedy(inputs, context, described)
        steps.append(remedy)
        if on_kubernetes:
            steps.append(
                PlannedStep(
                    "rollout",
                    "kubernetes.rollout_status",
                    _ref(inputs),
                    f"Wait until {_where(inputs)} has rolled out",
                )
            )
        if inputs.recovery_check:
            steps.append(check_step("recovery", inputs.recovery_check, label=f"{inputs.service} recovery"))
        steps += _follow_ups(inputs, context, summary)
        return WorkflowPlan(
            summary=summary,
            target=Target(environment=inputs.environment, namespace=inputs.namespace, name=inputs.service),
            steps=steps,
            rollback=rollback,
            targets=[f"deployment/{_where(inputs)}"],
        )


def _diagnostics(
    inputs: RemediationInputs, context: PlanningContext, *, on_kubernetes: bool
) -> list[PlannedStep]:
    """Reads run first, so the card and the thread hold what the service looked like before."""
    steps: list[PlannedStep] = []
    if on_kubernetes:
        where = _where(inputs)
        pods = {"namespace": inputs.namespace, "deployment": inputs.service}
        steps.append(
            PlannedStep(
                "describe",
                "kubernetes.get_deployment_summary",
                _ref(inputs),
                f"Describe {where} before the change",
            )
        )
        steps.append(PlannedStep("pods", "kubernetes.list_pods", pods, f"List the pods of {where}"))
    if context.has("alertmanager.list_alerts"):
        matchers = {"matchers": [_service_matcher(inputs)]}
        steps.append(
            PlannedStep(
                "alerts", "alertmanager.list_alerts", matchers, f"List the alerts of {inputs.service}"
            )
        )
    return steps


def _ref(inputs: RemediationInputs) -> dict[str, str]:
    return {"namespace": inputs.namespace, "name": inputs.service}


def _where(inputs: RemediationInputs) -> str:
    return f"{inputs.namespace}/{inputs.service}"


def _remedy(
    inputs: RemediationInputs, context: PlanningContext, described: dict[str, Any]
) -> tuple[PlannedStep, str, str]:
    """The remediation step, the plan's summary and its rollback in words; the live state read at
    planning decides and pins what the step may do."""
    ref, where = _ref(inputs), _where(inputs)
    if inputs.remediation == "restart":
        step = PlannedStep("remediate", "kubernetes.rollout_restart", ref, f"Restart the pods of {where}")
        return (
            step,
            f"restart {where}",
            "None needed: a restart changes no spec beyond the restart annotation",
        )
    if inputs.remediation == "rollback":
        revisions = described.get("revisions") or []
        if len(revisions) < 2:
            raise UserError(f"{where} has no previous revision to roll back to.")
        current, previous = int(described["revision"]), int(revisions[1]["revision"])
        args = {**ref, "to_revision": previous, "expected_revision": current}
        images = ", ".join(revisions[1]["images"])
        step = PlannedStep(
            "remediate",
            "kubernetes.rollout_rollback",
            args,
            f"Roll {where} back from revision {current} to {previous} ({images})",
        )
        return step, f"roll {where} back to revision {previous}", f"Roll forward again to revision {current}"
    if inputs.remediation == "scale_up":
        running, wanted = int(described["replicas"]), inputs.replicas or 0
        if wanted <= running:
            raise UserError(f"{where} already runs {running} replicas; scale_up needs more than that.")
        step = PlannedStep(
            "remediate",
            "kubernetes.scale",
            {**ref, "replicas": wanted},
            f"Scale {where} up from {running} to {wanted}",
        )
        return step, f"scale {where} up to {wanted} replicas", f"Scale back to {running} replicas"
    matchers = [_service_matcher(inputs)] + ([f'alertname="{inputs.alertname}"'] if inputs.alertname else [])
    args = {
        "matchers": matchers,
        "comment": f"incident remediation of {inputs.service}"
        + (f" ({inputs.incident})" if inputs.incident else ""),
        "created_by": context.requester.user_id,
        "duration_seconds": minutes(inputs.silence_for) * 60,
    }
    step = PlannedStep(
        "remediate",
        "alertmanager.create_silence",
        args,
        f"Silence {', '.join(matchers)} for {inputs.silence_for}",
    )
    return step, f"silence the alerts of {inputs.service} for {inputs.silence_for}", "Expire the silence"


def _follow_ups(inputs: RemediationInputs, context: PlanningContext, summary: str) -> list[PlannedStep]:
    steps: list[PlannedStep] = []
    incident = inputs.incident or ""
    if _PAGERDUTY_ID.match(incident) and context.has("pagerduty.annotate_incident"):
        note = f"Carapulse: {summary} (requested by {context.requester.user_id}) verified."
        steps.append(
            PlannedStep(
                "note",
                "pagerduty.annotate_incident",
                {"incident_id": incident, "content": note},
                f"Note on PagerDuty incident {incident}",
            )
        )
    annotate = annotation_step(
        context,
        workflow=IncidentRemediation.name,
        environment=inputs.environment,
        service=inputs.service,
        text=summary,
    )
    return steps + ([annotate] if annotate else [])


def _service_matcher(inputs: RemediationInputs) -> str:
    return f'{SERVICE_LABEL}="{inputs.service}"'
