"""Set-up shared by the tests that run the git tool against bare repositories under tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

from tools.common.registry import Registry
from tools.git import toolset


def git_environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The git tool's settings: clones in tmp_path/work, every remote under tmp_path/remotes allowed."""
    return {
        "GIT_WORKDIR": str(tmp_path / "work"),
        "GIT_ALLOWED_REMOTES": f"file://{tmp_path}/remotes",
        "PATH": os.environ["PATH"],
        **extra,
    }


def git_registry(tmp_path: Path) -> Registry:
    return Registry(toolset(git_environ(tmp_path)).actions)
