"""What the tests/integration/tools/test_helm*.py modules share: the release they act on, the argv the
stand-in helm expects for it, the settings that point the tool at the stand-in, a git repository of
values, and running an action through the registry as the worker does."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests.fakes.helm_output import Chart
from tools.base import ActionResult
from tools.registry import Registry

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


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)
