"""The suite reads its data from inside the repository: a clone with nothing beside it can run it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bot.playground.slack.specs import EXTRA_METHODS, SPECS_ENV_VAR, specs_dir

REPOSITORY = Path(__file__).resolve().parents[4]
# The tests of everything that loads spec files: the Block Kit checker, the request driver (payloads,
# headers) and the fake Web API (methods, limits, the supplement).
LOADER_TESTS = (
    "tests/unit/playground/slack/test_blockkit.py",
    "tests/unit/playground/slack/test_driver.py",
    "tests/unit/playground/slack/test_web_api.py",
)
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache", "*.db", "*.egg-info"
)


def test_specs_are_read_from_the_repository() -> None:
    assert specs_dir().is_relative_to(REPOSITORY)
    assert EXTRA_METHODS.is_relative_to(REPOSITORY)
    assert (specs_dir() / "methods.json").is_file()


def test_loader_tests_pass_in_a_copy_with_nothing_beside_it(tmp_path: Path) -> None:
    clone = tmp_path / "carapulse"
    shutil.copytree(REPOSITORY, clone, ignore=NOT_SOURCE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["carapulse"]
    environment = {name: value for name, value in os.environ.items() if name != SPECS_ENV_VAR}

    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *LOADER_TESTS],
        cwd=clone,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert " passed" in finished.stdout
