"""The layering rule of `tools/`, read from the source: a tool package imports only `tools.common` and
itself, `tools.common` imports no tool, and nothing under `tools/` imports the rest of Carapulse. Imports
inside functions and `TYPE_CHECKING` blocks count too: they run sooner or later."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[3] / "tools"
COMMON = "common"
# Carapulse's other top-level packages, none of which a tool may use.
OURS = ("bot", "actions", "blocks", "migrations", "tests", "bench")
ANOTHER_TOOL = "another tool's package; share it through tools.common"
A_TOOL = "a tool's package; tools.common imports no tool"


def module_name(path: Path) -> str:
    parts = path.relative_to(TOOLS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(module: str, source: str, *, package: bool) -> Iterator[str]:
    """Every module name `source` imports, relative imports resolved; `from a import b` yields `a.b`, so
    `from tools import helm` counts as importing the helm tool."""
    here = module.split(".") if package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here[: len(here) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            yield from (f"{base}.{alias.name}" for alias in node.names)


def violations(module: str, source: str, *, package: bool = False) -> list[str]:
    """`<module> imports <name>: <why>` for each import the rule forbids."""
    parts = module.split(".")
    own = parts[1] if len(parts) > 1 else None
    found = []
    for name in imported(module, source, package=package):
        top, *rest = name.split(".")
        if top in OURS:
            found.append(f"{module} imports {name}: tools import nothing from {top}/")
        elif top == "tools" and rest and rest[0] not in (COMMON, own):
            found.append(f"{module} imports {name}: {A_TOOL if own in (None, COMMON) else ANOTHER_TOOL}")
    return found


def tool_modules() -> list[Path]:
    return sorted(TOOLS.rglob("*.py"))


def test_every_tool_imports_only_common_and_itself() -> None:
    found = [
        problem
        for path in tool_modules()
        for problem in violations(module_name(path), path.read_text(), package=path.name == "__init__.py")
    ]
    assert found == []


def test_the_rule_sees_every_tool_package() -> None:
    packages = {path.parent.name for path in TOOLS.glob("*/__init__.py")}
    assert {COMMON, "aws", "helm", "kubernetes", "prometheus", "vault"} <= packages
    assert [path.name for path in TOOLS.glob("*.py")] == ["__init__.py"]


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("tools.helm.values_s3", "from tools.common.aws.settings import AwsSettings"),
        ("tools.helm.values_s3", "from tools.helm.values import check_values_document"),
        ("tools.helm", "from tools.helm import actions"),
        ("tools.helm.client", "from . import args"),
        ("tools.helm.client", "from .args import ReleaseName"),
        ("tools.common.pins", "from tools.common.base import ToolError"),
        ("tools.common.aws.client", "from ..base import ToolError"),
        ("tools.vault.answers", "from tools import common"),
        ("tools.kubernetes.client", "import kubernetes.client"),
        ("tools.aws.action", "import boto3"),
    ],
)
def test_allowed_imports(module: str, source: str) -> None:
    assert violations(module, source) == []


@pytest.mark.parametrize(
    ("module", "source", "name", "why"),
    [
        ("tools.helm.values_s3", "from tools.aws import AwsSettings", "tools.aws.AwsSettings", ANOTHER_TOOL),
        ("tools.github", "from tools import git", "tools.git", ANOTHER_TOOL),
        (
            "tools.github.args",
            "if TYPE_CHECKING:\n    from tools.git.repo import Author",
            "tools.git.repo.Author",
            ANOTHER_TOOL,
        ),
        (
            "tools.grafana.client",
            "def f():\n    import tools.tempo.traces",
            "tools.tempo.traces",
            ANOTHER_TOOL,
        ),
        ("tools.helm.client", "from ..aws import action", "tools.aws.action", ANOTHER_TOOL),
        ("tools.common.git.revert", "from tools.git import RevertCommit", "tools.git.RevertCommit", A_TOOL),
        ("tools.helm", "from bot.domain import Plan", "bot.domain.Plan", "tools import nothing from bot/"),
        ("tools.vault.kv", "import actions", "actions", "tools import nothing from actions/"),
        ("tools.common.base", "from blocks import ids", "blocks.ids", "tools import nothing from blocks/"),
        (
            "tools.aws.action",
            "from tests.fakes.moto_server import REGION",
            "tests.fakes.moto_server.REGION",
            "tools import nothing from tests/",
        ),
    ],
)
def test_refused_imports_name_the_module_and_the_import(
    module: str, source: str, name: str, why: str
) -> None:
    assert violations(module, source) == [f"{module} imports {name}: {why}"]
