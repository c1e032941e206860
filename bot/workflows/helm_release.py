"""helm_release: `helm upgrade --install` a release to an exact chart version with values from git, S3
and inline YAML, wait, then verify the Deployments rolled out (and an optional PromQL check held).

Planning runs the upgrade's dry run (helm.get_diff) so approvers see the diff on the card, and pins
every value that dry run read: the release's latest revision, the values' git commit and S3 object
version. The upgrade refuses to run once any of them moved. Its rollback is `helm rollback` to the
revision that was deployed when the plan was made, or an uninstall of a release that was new.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, Field, TypeAdapter, ValidationError

from bot.domain import StepStage, Target
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
from bot.workflows.sentences import Sentence, named, sentence
from tools.common.wording import listing
from tools.helm.args import ChartRef, ChartVersion, NamespaceName, ReleaseName
from tools.helm.values import GitValues, InlineValues
from tools.helm.values_s3 import S3Values
from tools.kubernetes.args import ObjectName

MAX_DEPLOYMENTS = 10
DIFF_ACTION = "helm.get_diff"


def _worded(kind: Any, message: str) -> Callable[[str], str]:
    """A tool's own check, refused in words a form can show instead of the tool's regular expression."""
    adapter = TypeAdapter(kind)

    def check(text: str) -> str:
        try:
            adapter.validate_python(text)
        except ValidationError:
            raise ValueError(message) from None
        return text

    return check


_deployment_name = _worded(
    ObjectName, "list Deployment names (lower-case letters, digits, '-', '.') with commas"
)


def _deployment_names(text: str) -> str:
    names = [_deployment_name(name.strip()) for name in text.split(",")]
    if len(names) > MAX_DEPLOYMENTS:
        raise ValueError(f"at most {MAX_DEPLOYMENTS} Deployments")
    return ", ".join(names)


Release = Annotated[
    str,
    AfterValidator(
        _worded(ReleaseName, "a release name is lower-case letters, digits, '-' and '.', up to 53")
    ),
]
Namespace = Annotated[
    str, AfterValidator(_worded(NamespaceName, "a namespace is lower-case letters, digits and '-', up to 63"))
]
Chart = Annotated[
    str,
    AfterValidator(
        _worded(
            ChartRef, "write the chart as <repo>/<chart>, oci://<registry>/<path> or https://…/<chart>.tgz"
        )
    ),
]
Version = Annotated[
    str, AfterValidator(_worded(ChartVersion, "an exact chart version, e.g. 1.4.2 (no ranges such as ^1.4)"))
]
Deployments = Annotated[str, Field(max_length=700), AfterValidator(_deployment_names)]


class HelmReleaseInputs(WorkflowInputs):
    release: Release = Field(title="Release", description="The helm release to upgrade (or install)")
    namespace: Namespace = Field(title="Namespace")
    chart: Chart = Field(title="Chart", description="<repo>/<chart> or oci://<registry>/<path>")
    version: Version = Field(title="Chart version", description="Exact, e.g. 1.4.2")
    values_git: GitValues | None = Field(
        default=None,
        title="Values from git",
        description="<repository>@<branch or tag>:<file>; pinned to the commit read when planning",
    )
    values_s3: S3Values | None = Field(
        default=None,
        title="Values from S3",
        description="s3://<bucket>/<key>; pinned to the object version read when planning",
    )
    values: InlineValues | None = Field(
        default=None,
        title="Inline values",
        description="YAML, e.g. {image: {tag: 2.1.0}}; wins over the files",
    )
    deployments: Deployments | None = Field(
        default=None, title="Deployments to check", description="Comma-separated; empty: the release name"
    )
    timeout_seconds: Annotated[int, Field(ge=30, le=1800)] = Field(
        default=300, title="Wait timeout (seconds)", description="For helm --wait and each rollout"
    )
    check: PromqlCheck | None = Field(default=None, title="PromQL check")


_RELEASE = named("release", r"[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?")
_VERSION = named("version", r"v?[0-9][0-9a-z.+-]*")
_NAMESPACE = rf"(?: (?:-n|--namespace|in namespace) {named('namespace')})"
_ENVIRONMENT = rf"(?: in {named('environment')})"


class HelmRelease(Workflow[HelmReleaseInputs]):
    name: ClassVar[str] = "helm_release"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = (
        "helm upgrade --install a release to an exact chart version: the diff runs while planning and what "
        "it read is pinned; verify the rollout; roll back to the revision it replaced."
    )
    examples: ClassVar[tuple[str, ...]] = (
        "helm upgrade payments in prod",
        "helm upgrade payments to 1.4.2 in prod",
    )
    inputs: ClassVar[type[HelmReleaseInputs]] = HelmReleaseInputs
    steps: ClassVar[tuple[StepDeclaration, ...]] = (
        StepDeclaration(
            "upgrade",
            StepStage.ACT,
            ("helm.upgrade",),
            "helm upgrade --install with the values, commit and revision the plan's diff read, and wait",
        ),
        StepDeclaration(
            "rollout",
            StepStage.VERIFY,
            ("kubernetes.rollout_status",),
            "Wait until each Deployment has rolled out",
        ),
        StepDeclaration("check", StepStage.VERIFY, ("prometheus.query_threshold",), "Hold the PromQL check"),
        StepDeclaration(
            "annotate", StepStage.FOLLOW_UP, (ANNOTATE,), "Annotate Grafana (when it is configured)"
        ),
    )
    sentences: ClassVar[tuple[Sentence, ...]] = (
        sentence(rf"helm (?:upgrade|install) {_RELEASE}(?: to {_VERSION})?{_NAMESPACE}?{_ENVIRONMENT}?"),
    )

    async def plan(self, inputs: HelmReleaseInputs, context: PlanningContext) -> WorkflowPlan:
        upgrade = _upgrade_args(inputs)
        diff = await context.read(DIFF_ACTION, upgrade)
        where = f"{inputs.namespace}/{inputs.release}"
        steps = [
            PlannedStep(
                "upgrade",
                "helm.upgrade",
                {**upgrade, **_pins(diff)},
                f"helm upgrade --install {where} to {diff['chart']} and wait",
            ),
            *(
                PlannedStep(
                    "rollout",
                    "kubernetes.rollout_status",
                    {"namespace": inputs.namespace, "name": name, "timeout_seconds": inputs.timeout_seconds},
                    f"Wait until {inputs.namespace}/{name} has rolled out",
                )
                for name in _deployments(inputs)
            ),
        ]
        if inputs.check:
            steps.append(check_step("check", inputs.check, label=f"{inputs.release} check"))
        annotate = annotation_step(
            context,
            workflow=self.name,
            environment=inputs.environment,
            service=inputs.release,
            text=f"helm upgrade {where} to {diff['chart']}",
        )
        steps += [annotate] if annotate else []
        return WorkflowPlan(
            summary=_summary(where, inputs.environment, diff),
            target=Target(
                environment=inputs.environment,
                namespace=inputs.namespace,
                kind="HelmRelease",
                name=inputs.release,
            ),
            steps=steps,
            rollback=_rollback(where, diff),
            targets=[f"helm/{where}"],
        )


def _upgrade_args(inputs: HelmReleaseInputs) -> dict[str, Any]:
    sources = {"values_git": inputs.values_git, "values_s3": inputs.values_s3, "values": inputs.values}
    return {
        "namespace": inputs.namespace,
        "release": inputs.release,
        "chart": inputs.chart,
        "version": inputs.version,
        **{name: value for name, value in sources.items() if value is not None},
        "timeout_seconds": inputs.timeout_seconds,
    }


def _pins(diff: Mapping[str, Any]) -> dict[str, Any]:
    """What the diff read, as the upgrade's pins. The ETag is pinned beside the version id: a bucket
    without versioning (or with it suspended, every version "null") has only the ETag to tell."""
    pins: dict[str, Any] = {"expected_revision": diff["current_revision"] or 0}
    if git := diff.get("values_git"):
        pins["values_git_commit"] = git["commit"]
    if s3 := diff.get("values_s3"):
        if s3["version_id"] is not None:
            pins["values_s3_version"] = s3["version_id"]
        pins["values_s3_etag"] = s3["etag"]
    return pins


def _deployments(inputs: HelmReleaseInputs) -> list[str]:
    if inputs.deployments is None:
        return [inputs.release]
    return inputs.deployments.split(", ")


def _summary(where: str, environment: str, diff: Mapping[str, Any]) -> str:
    counts = f"{len(diff['added'])} added, {len(diff['changed'])} changed, {len(diff['removed'])} removed"
    if diff["current_revision"] is None:
        return f"helm install {where} {diff['chart']} in {environment}: {counts}"
    revision = diff["current_revision"]
    return f"helm upgrade {where} revision {revision} → {diff['chart']} in {environment}: {counts}"


def _rollback(where: str, diff: Mapping[str, Any]) -> str:
    if diff["previous_revision"] is None:
        return f"helm uninstall {where}: it was not installed when this plan was made"
    back = (
        f"helm rollback {where} to revision {diff['previous_revision']} ({diff['previous_chart']}), "
        "the one deployed when this plan was made"
    )
    reverted = [f"{listing(diff[key], 5)} ({key})" for key in ("changed", "added", "removed") if diff[key]]
    return back + (f"; it reverts {'; '.join(reverted)}" if reverted else "")
