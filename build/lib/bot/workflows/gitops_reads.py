"""What gitops_deploy reads while it plans, and pins: the base branch's commit and the value there
(in the target environment's file, and for a promotion in the source's), and the Argo CD
application's deployed revision; refused when there is nothing to deploy or the application does
not deploy from that branch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.errors import UserError
from bot.workflows.base import PlanningContext
from bot.workflows.gitops_inputs import GitOpsInputs

Scalar = str | int | float | bool


@dataclass(frozen=True)
class Where:
    """The inputs every step needs, all present."""

    remote: str
    repository: str
    provider: str
    file: str
    app: str


@dataclass(frozen=True)
class Reading:
    commit: str  # the base branch's tip: the change branch starts from exactly this commit
    previous: Scalar  # the value there now
    version: Scalar  # the value to set
    live_revision: str | None  # what the application runs now (None: never deployed)
    auto_sync: bool
    out_of_sync: bool


def where(inputs: GitOpsInputs, context: PlanningContext) -> Where:
    """The inputs that have no default of their own, checked present; the provider, when not given,
    is whichever of github and gitlab this Carapulse has."""
    if inputs.version is None and inputs.promote_from is None:
        raise UserError(_needs("version", inputs, "version=… (or promote_from=<environment>)"))
    if inputs.version is not None and inputs.promote_from is not None:
        raise UserError("gitops_deploy takes a version or promote_from, not both")
    for name in ("remote", "repository"):
        if getattr(inputs, name) is None:
            raise UserError(_needs(name, inputs, f"{name}=…"))
    return Where(
        remote=str(inputs.remote),
        repository=str(inputs.repository),
        provider=inputs.provider or _provider(inputs, context),
        file=inputs.fill(inputs.values_file),
        app=inputs.fill(inputs.argocd_app),
    )


async def read(inputs: GitOpsInputs, at: Where, context: PlanningContext) -> Reading:
    target = await _value(context, inputs, at, at.file)
    if inputs.promote_from is not None:
        source_file = inputs.fill(inputs.values_file, environment=inputs.promote_from)
        source = await _value(context, inputs, at, source_file)
        if source["commit"] != target["commit"]:
            raise UserError(f"{inputs.base_branch} moved while I read it; ask again")
        version: Scalar = source["value"]
    else:
        version = str(inputs.version)
    if str(target["value"]) == str(version):
        where_it_is = f"{inputs.tag_path} in {at.file} on {inputs.base_branch}"
        raise UserError(f"Nothing to deploy: {where_it_is} is already {version}.")
    app = await context.read("argocd.get_app", {"name": at.app})
    _check_tracks(app, inputs, at)
    history = app.get("history") or []
    return Reading(
        commit=target["commit"],
        previous=target["value"],
        version=version,
        live_revision=str(history[-1]["revision"]) if history else None,
        auto_sync=bool(app.get("auto_sync")),
        out_of_sync=app.get("sync_status") != "Synced",
    )


async def _value(context: PlanningContext, inputs: GitOpsInputs, at: Where, file: str) -> dict[str, Any]:
    found = await context.read(
        "git.get_value",
        {"remote": at.remote, "branch": inputs.base_branch, "file": file, "path": inputs.tag_path},
    )
    if not isinstance(found["value"], Scalar):
        raise UserError(f"{inputs.tag_path} in {file} is not a single value, so I cannot deploy it")
    return found


def _check_tracks(app: dict[str, Any], inputs: GitOpsInputs, at: Where) -> None:
    """A merge deploys only if the application renders this repository's base branch."""
    tracked = str(app.get("target_revision") or "HEAD")
    same_repository = _repository_key(str(app.get("repo_url", ""))) == _repository_key(at.remote)
    branches = {inputs.base_branch, f"refs/heads/{inputs.base_branch}", "HEAD"}
    if not same_repository or tracked not in branches:
        raise UserError(
            f"Argo CD application {at.app} deploys {tracked} of {app.get('repo_url')}, not "
            f"{inputs.base_branch} of {at.remote}, so merging there would not deploy it; "
            "check argocd_app, remote and base_branch"
        )


def _repository_key(url: str) -> str:
    """One spelling for the URLs of one repository: `git@host:a/b.git`, `https://host/a/b` and
    `ssh://git@host/a/b.git` all become `host/a/b`."""
    text = url.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
        host, slash, path = text.partition("/")
        text = host.rpartition("@")[2] + slash + path
    else:
        text = text.rpartition("@")[2].replace(":", "/", 1)
    return text.rstrip("/").removesuffix(".git")


def _provider(inputs: GitOpsInputs, context: PlanningContext) -> str:
    configured = [name for name, opens in _OPENS.items() if context.has(opens)]
    if len(configured) == 1:
        return configured[0]
    if not configured:
        raise UserError(
            "gitops_deploy opens a pull or merge request, but neither github (GITHUB_TOKEN) nor gitlab "
            "(GITLAB_TOKEN) is configured on this Carapulse"
        )
    raise UserError(_needs("provider", inputs, "provider=github or provider=gitlab"))


def _needs(name: str, inputs: GitOpsInputs, how: str) -> str:
    return (
        f"gitops_deploy needs {name}: set it with {how} "
        f"or in {inputs.environment}/gitops_deploy.yaml defaults"
    )


_OPENS = {"github": "github.open_pull_request", "gitlab": "gitlab.open_merge_request"}
