"""The follow-up every workflow ends with where Grafana is configured: an annotation that marks the
verified change on the dashboards, tagged so a team can filter for its own changes."""

from __future__ import annotations

from bot.workflows.base import PlannedStep, PlanningContext

ANNOTATE = "grafana.annotate"


def annotation_step(
    context: PlanningContext, *, workflow: str, environment: str, service: str, text: str
) -> PlannedStep | None:
    """The annotation step, or None when Grafana is not configured here."""
    if not context.has(ANNOTATE):
        return None
    return PlannedStep(
        id="annotate",
        action=ANNOTATE,
        args={
            "text": f"{text} (Carapulse, requested by {context.requester.user_id})",
            "tags": ["carapulse", workflow, environment, service],
        },
        description=f"Annotate Grafana: {text}",
    )
