"""What the tests/integration/tools/helm/test_*.py modules share: the release they act on, the argv the
stand-in helm expects for it, the settings that point the tool at the stand-in, a git repository of
values, and running an action through the registry as the worker does."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests.fakes.cli_standins import StandIn
from tests.fakes.helm_output import Chart, history, release
from tools.common.base import ActionResult
from tools.common.registry import Registry

WEB = {"namespace": "shop", "release": "web"}
OLD, NEW = Chart(version="1.3.0", app_version="2.0.0"), Chart(version="1.4.0", app_version="2.1.0")
STATUS = ["status", "web", "--namespace=shop", "--output=json"]
HISTORY = ["history", "web", "--namespace=shop", "--max=256", "--output=json"]
UPGRADE = [
    "upgrade",
    "web",
    "example/web",
    "--install",
    "--namespace=shop",
    "--output=json",
    "--version=1.4.0",
]
INLINE_VALUES = "replicaCount: 3\nimage:\n  tag: 2.1.0\n"


def expect_diff_reads(helm: StandIn, revision: int, *, manifest: str = "") -> None:
    """What a diff reads before it renders: the history (the revision a plan pins, the one a rollback
    returns to), then the status for the release's manifest."""
    helm.expect(*HISTORY, stdout=history([(revision, "deployed", OLD, "Upgrade complete")]))
    helm.expect(*STATUS, stdout=release("web", "shop", revision, chart=None, manifest=manifest))


def standin_environ(bin_dir: Path, tmp_path: Path) -> dict[str, str]:
    """HELM_ENABLED with the stand-in first on PATH, a kubeconfig and a context, and one service secret
    that must never reach helm."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    return {
        "HELM_ENABLED": "1",
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "KUBECONFIG": str(kubeconfig),
        "HELM_KUBECONTEXT": "prod-eu",
        "SLACK_BOT_TOKEN": "xoxb-not-for-helm",
    }


async def run(registry: Registry, name: str, raw: dict[str, Any], *, dry_run: bool = False) -> ActionResult:
    action = registry.get(name)
    args = action.parse_args(raw)
    return await (action.dry_run(args) if dry_run else action.run(args))


def values_repository(root: Path) -> Path:
    """`root/repos/deploy`, whose prod/web.yaml says `replicaCount: 4` at tag v1 and 9 on main."""
    repo = root / "repos" / "deploy"
    (repo / "prod").mkdir(parents=True)
    _git(repo, "init", "--quiet", "--initial-branch=main")
    _git(repo, "config", "user.email", "ops@example.com")
    _git(repo, "config", "user.name", "ops")
    (repo / "prod" / "web.yaml").write_text("replicaCount: 4\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "--quiet", "-m", "web: 4 replicas")
    _git(repo, "tag", "v1")
    (repo / "prod" / "web.yaml").write_text("replicaCount: 9\n")
    _git(repo, "commit", "--quiet", "-am", "web: 9 replicas")
    return repo


def commit_values(repo: Path, path: str, text: str) -> str:
    """Commit `text` as `path` on the checked-out branch (someone changing the values); the new commit."""
    (repo / path).write_text(text)
    _git(repo, "commit", "--quiet", "-am", f"{path}: {text.strip()}")
    return commit_of(repo, "HEAD")


def commit_of(repo: Path, rev: str) -> str:
    return _git(repo, "rev-parse", f"{rev}^{{commit}}").strip()


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout
