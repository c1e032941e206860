"""gitops_deploy's steps for one set of inputs and what planning read: the change on a branch of
its own, the pull or merge request, the merge, Argo CD's diff and sync, the verification and the
Grafana annotation.

Every step's arguments are fixed when the plan is made, so later steps name what earlier ones
create by the names the plan gave them: the pull request by its head branch, and the merge commit
as the tip of the base branch Argo CD tracks (the sync takes that branch; the wait accepts any
revision but the base commit the plan read).
"""

from __future__ import annotations

from typing import Any

from bot.domain import Actor
from bot.workflows.base import PlannedStep
from bot.workflows.checks import check_step
from bot.workflows.gitops_inputs import GitOpsInputs
from bot.workflows.gitops_reads import Reading, Where

WAIT_SECONDS = 600.0
_PROPOSE = {"github": "github.open_pull_request", "gitlab": "gitlab.open_merge_request"}
_MERGE = {"github": "github.merge_pull_request", "gitlab": "gitlab.merge_merge_request"}


def act_steps(inputs: GitOpsInputs, at: Where, reading: Reading, *, requester: Actor) -> list[PlannedStep]:
    branch = change_branch(inputs, reading)
    author = _author(requester)
    on_branch = {"remote": at.remote, "branch": branch}
    change = f"{inputs.tag_path} {reading.previous} → {reading.version}"
    steps = [
        PlannedStep(
            "branch",
            "git.create_branch",
            {**on_branch, "from_ref": inputs.base_branch, "expected_commit": reading.commit},
            f"Create {branch} from {inputs.base_branch} at {reading.commit[:12]}, the commit the plan read",
        ),
        PlannedStep(
            "change",
            "git.set_value",
            {
                **on_branch,
                "file": at.file,
                "path": inputs.tag_path,
                "value": reading.version,
                **author,
                # The revert of the merge on the base branch undoes it; the branch itself is deleted.
                "revert_on_rollback": False,
            },
            f"Set {change} in {at.file} on {branch}",
        ),
        _propose(inputs, at, reading, branch, requester),
        _merge(inputs, at, branch, author),
        PlannedStep(
            "diff",
            "argocd.get_diff",
            {"name": at.app, "refresh": "normal"},
            f"Show what Argo CD will change in {at.app} now that {inputs.base_branch} has the merge",
        ),
    ]
    if not reading.auto_sync:
        live = {"expected_live_revision": reading.live_revision} if reading.live_revision else {}
        steps.append(
            PlannedStep(
                "sync",
                "argocd.sync",
                {"name": at.app, **live},
                f"Sync {at.app} to {inputs.base_branch}, which now ends in the merge",
            )
        )
    return steps


def verify_steps(inputs: GitOpsInputs, at: Where, reading: Reading) -> list[PlannedStep]:
    steps = [
        PlannedStep(
            "wait",
            "argocd.app_status",
            {"name": at.app, "timeout_seconds": WAIT_SECONDS, "stale_revision": reading.commit},
            f"Wait until {at.app} is Synced and Healthy at a revision after {reading.commit[:12]}",
        )
    ]
    if inputs.check:
        steps.append(check_step("check", inputs.check, label=f"{inputs.service} check"))
    return steps


def change_branch(inputs: GitOpsInputs, reading: Reading) -> str:
    """Named for the change and the commit it starts from, so a new plan never reuses an old branch."""
    return f"carapulse/{inputs.service}-{inputs.environment}-{reading.version}-{reading.commit[:8]}"


def _propose(inputs: GitOpsInputs, at: Where, reading: Reading, branch: str, requester: Actor) -> PlannedStep:
    title = f"Deploy {inputs.service} {reading.version} to {inputs.environment}"
    if inputs.promote_from:
        title += f" (promoted from {inputs.promote_from})"
    body = f"Asked for in Slack by {requester.user_id}; Carapulse merges this once the plan is approved."
    if at.provider == "github":
        args: dict[str, Any] = {
            "repository": at.repository,
            "head": branch,
            "base": inputs.base_branch,
            "title": title,
            "body": body,
        }
    else:
        args = {
            "project": at.repository,
            "source_branch": branch,
            "target_branch": inputs.base_branch,
            "title": title,
            "description": body,
        }
    kind = "pull request" if at.provider == "github" else "merge request"
    return PlannedStep("propose", _PROPOSE[at.provider], args, f"Open a {kind} into {inputs.base_branch}")


def _merge(inputs: GitOpsInputs, at: Where, branch: str, author: dict[str, str]) -> PlannedStep:
    # Approving the plan is approving the merge; the tool still asks the host whether it may merge.
    revert_via = {"remote": at.remote, **author}
    if at.provider == "github":
        args: dict[str, Any] = {"repository": at.repository, "head": branch, "revert_via": revert_via}
    else:
        args = {
            "project": at.repository,
            "source_branch": branch,
            "should_remove_source_branch": True,
            "revert_via": revert_via,
        }
    return PlannedStep(
        "merge", _MERGE[at.provider], args, f"Merge it into {inputs.base_branch} (rollback: revert the merge)"
    )


def _author(requester: Actor) -> dict[str, str]:
    """Who asked, as git records authors: the Slack user id, at an address that never routes."""
    return {
        "author_name": requester.user_id,
        "author_email": f"{requester.user_id}@users.carapulse.invalid",
    }
