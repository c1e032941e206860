"""gitops_deploy: bump an image tag (or another value) in the GitOps repository on a branch, open a
pull request (GitHub) or merge request (GitLab), merge it once the plan is approved, let Argo CD
sync the merge, and verify that the application is Synced and Healthy after it (and an optional
PromQL check holds). Promotion is the same deploy of the version another environment's file names.

The card shows the change ("image.tag v1.4.1 → v1.4.2") from the values read at planning, and Argo
CD's own diff as the output of a read step right after the merge: only then does git hold what Argo
CD compares with. The rollback undoes the completed steps newest first: Argo CD back to the
deployment it ran before, the merge reverted on the base branch (so git and the cluster agree
again), the branch deleted.
"""

from __future__ import annotations

from typing import ClassVar

from bot.domain import StepStage, Target
from bot.workflows.annotations import ANNOTATE, annotation_step
from bot.workflows.base import PlanningContext, StepDeclaration, Workflow, WorkflowPlan
from bot.workflows.gitops_inputs import GitOpsInputs
from bot.workflows.gitops_reads import Reading, Where, read, where
from bot.workflows.gitops_steps import act_steps, verify_steps
from bot.workflows.sentences import NAME, Sentence, named, sentence

_VERSION = named("version", r"[a-z0-9_][a-z0-9_.-]*")
_TO = rf"(?: (?:to|in) {named('environment')})"


class GitOpsDeploy(Workflow[GitOpsInputs]):
    name: ClassVar[str] = "gitops_deploy"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = (
        "Deploy a version through the GitOps repository (pull or merge request, merge, Argo CD sync, "
        "verify), or promote what another environment runs."
    )
    examples: ClassVar[tuple[str, ...]] = (
        "deploy checkout v1.4.2 to staging",
        "promote checkout from staging to prod",
    )
    inputs: ClassVar[type[GitOpsInputs]] = GitOpsInputs
    steps: ClassVar[tuple[StepDeclaration, ...]] = (
        StepDeclaration(
            "branch", StepStage.ACT, ("git.create_branch",), "Branch off the base commit the plan read"
        ),
        StepDeclaration("change", StepStage.ACT, ("git.set_value",), "Set the value on that branch"),
        StepDeclaration(
            "propose",
            StepStage.ACT,
            ("github.open_pull_request", "gitlab.open_merge_request"),
            "Open a pull request (GitHub) or merge request (GitLab)",
        ),
        StepDeclaration(
            "merge",
            StepStage.ACT,
            ("github.merge_pull_request", "gitlab.merge_merge_request"),
            "Merge it: approving the plan approves the merge",
        ),
        StepDeclaration("diff", StepStage.ACT, ("argocd.get_diff",), "Show what Argo CD will change"),
        StepDeclaration(
            "sync", StepStage.ACT, ("argocd.sync",), "Sync the application (not with auto-sync on)"
        ),
        StepDeclaration(
            "wait", StepStage.VERIFY, ("argocd.app_status",), "Wait until it is Synced and Healthy after it"
        ),
        StepDeclaration("check", StepStage.VERIFY, ("prometheus.query_threshold",), "Hold the PromQL check"),
        StepDeclaration("annotate", StepStage.FOLLOW_UP, (ANNOTATE,), "Annotate the deploy in Grafana"),
    )
    sentences: ClassVar[tuple[Sentence, ...]] = (
        sentence(rf"deploy {named('service')} (?:version )?{_VERSION}{_TO}?"),
        sentence(rf"promote {named('service')} from {named('promote_from', NAME)}{_TO}"),
    )

    async def plan(self, inputs: GitOpsInputs, context: PlanningContext) -> WorkflowPlan:
        at = where(inputs, context)
        reading = await read(inputs, at, context)
        requester = context.requester
        steps = [
            *act_steps(inputs, at, reading, requester=requester),
            *verify_steps(inputs, at, reading),
        ]
        # The merged branch is not deleted by a step: a delete makes every deploy a high-risk plan.
        # GitLab removes it with the merge; on GitHub, "automatically delete head branches" does.
        annotate = annotation_step(
            context,
            workflow=self.name,
            environment=inputs.environment,
            service=inputs.service,
            text=f"{_summary(inputs, at, reading)}",
        )
        steps += [annotate] if annotate else []
        return WorkflowPlan(
            summary=_summary(inputs, at, reading),
            target=Target(environment=inputs.environment, namespace="", kind="Application", name=at.app),
            steps=steps,
            rollback=_rollback(inputs, at, reading),
            targets=[f"application/{at.app}", f"{at.repository}@{inputs.base_branch}:{at.file}"],
        )


def _summary(inputs: GitOpsInputs, at: Where, reading: Reading) -> str:
    where_to = f"from {inputs.promote_from} to" if inputs.promote_from else "to"
    verb = "promote" if inputs.promote_from else "deploy"
    summary = (
        f"{verb} {inputs.service} {where_to} {inputs.environment}: "
        f"{inputs.tag_path} {reading.previous} → {reading.version}"
    )
    if reading.out_of_sync:
        summary += f" ({at.app} is OutOfSync: the sync also applies what else changed)"
    return summary


def _rollback(inputs: GitOpsInputs, at: Where, reading: Reading) -> str:
    merge = (
        f"the merge commit on {inputs.base_branch}, so git says {inputs.tag_path} {reading.previous} again"
    )
    if reading.auto_sync:
        undo = f"Revert {merge}; Argo CD auto-syncs {at.app} back to it"
    elif reading.live_revision:
        live = reading.live_revision[:7]
        undo = f"Roll {at.app} back to the deployment it runs now ({live}), then revert {merge}"
    else:
        undo = f"Revert {merge}"
    proposal = "pull request" if at.provider == "github" else "merge request"
    return f"{undo}. A {proposal} left unmerged is closed and the change branch deleted."
