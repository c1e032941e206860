"""The `terraform` CLI in one stack directory under TERRAFORM_ROOT, run the way HashiCorp's automation
guide does (`-input=false`, `-no-color`, TF_IN_AUTOMATION): init, plan to a saved file, read that file
as JSON, apply exactly that file, list the state.

Saved plans live outside the stacks, one directory per stack and workspace, and are known to the
steps that follow by file name and sha256: apply refuses a file whose bytes are not the ones planned.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from tools.common.base import ToolError
from tools.common.cli_tool import parse_json, shape_error
from tools.common.runner import CliRunner, CommandResult, option, value
from tools.terraform.plan import PlanSummary, read_plan

PLAN_SUFFIX = ".tfplan"
PLAN_RETENTION = timedelta(days=7)
_APPLY_COMPLETE = "Apply complete!"


@dataclass(frozen=True)
class Stack:
    name: str
    directory: Path
    workspace: str | None

    @property
    def label(self) -> str:
        return f"{self.name} (workspace {self.workspace})" if self.workspace else self.name


@dataclass(frozen=True)
class SavedPlan:
    path: Path
    sha256: str
    summary: PlanSummary


class TerraformClient:
    def __init__(
        self,
        runner: CliRunner,
        *,
        root: Path,
        plan_dir: Path,
        env: Mapping[str, str],
        time_limit: float = 1800.0,
        lock_timeout_seconds: int = 60,
    ) -> None:
        self._runner = runner
        self.root = root.resolve()
        self._plan_dir = plan_dir
        self._env = {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", **env}
        self._time_limit = time_limit
        self._lock = option("-lock-timeout", f"{lock_timeout_seconds}s")

    @property
    def binary(self) -> Path:
        return self._runner.binaries["terraform"]

    def stack(self, name: str, workspace: str | None) -> Stack:
        """The stack directory `name` under the root. The name was checked for shape already; this
        checks where it really leads, so a symlink cannot take a step outside the root."""
        directory = (self.root / name).resolve()
        if not directory.is_relative_to(self.root):
            raise ToolError(
                f"stack {name} leads outside TERRAFORM_ROOT ({self.root})", call="terraform stack"
            )
        if not directory.is_dir():
            raise ToolError(
                f"stack {name} not found under TERRAFORM_ROOT ({self.root})", call="terraform stack"
            )
        return Stack(name=name, directory=directory, workspace=workspace)

    async def plan(self, stack: Stack, *, destroy: bool = False) -> SavedPlan:
        await self.init(stack)
        path = self._plan_directory(stack) / f"{uuid.uuid4().hex}{PLAN_SUFFIX}"
        mode = ["-destroy"] if destroy else []
        await self._run(
            stack, ["plan", "-input=false", "-no-color", self._lock, *mode, option("-out", str(path))]
        )
        try:
            summary = await self.show(stack, path)
        except BaseException:
            # A plan nobody could read is never approved: do not leave it behind.
            path.unlink(missing_ok=True)
            raise
        return SavedPlan(path=path, sha256=file_sha256(path), summary=summary)

    async def init(self, stack: Stack) -> None:
        """Idempotent: fast once the stack's backend and providers are set up."""
        await self._run(stack, ["init", "-input=false", "-no-color"])

    async def show(self, stack: Stack, path: Path) -> PlanSummary:
        result = await self._run(stack, ["show", "-json", "-no-color", value(str(path))])
        document = parse_json(result, "terraform")
        try:
            return read_plan(document)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise shape_error(result, "terraform", f"{type(error).__name__}: {error}") from None

    async def apply(self, stack: Stack, path: Path) -> str:
        """Applies the saved plan (no approval prompt: a plan file is the approval); returns terraform's
        "Apply complete! Resources: …" line."""
        result = await self._run(stack, ["apply", "-input=false", "-no-color", self._lock, value(str(path))])
        return next((line for line in result.stdout.splitlines() if line.startswith(_APPLY_COMPLETE)), "")

    async def state_list(self, stack: Stack) -> list[str]:
        await self.init(stack)
        result = await self._run(stack, ["state", "list"])
        return [line.strip() for line in result.stdout.splitlines() if line.strip()]

    def saved_plan(self, stack: Stack, file_name: str, sha256: str) -> Path:
        """The plan file a plan step wrote for this stack and workspace, refused unless its bytes are the
        ones that step recorded (and a person approved)."""
        path = self._plan_directory(stack) / file_name
        if not path.is_file():
            message = f"plan {file_name} for {stack.label} not found: it was applied already, or never made"
            raise ToolError(message, call="terraform apply")
        actual = file_sha256(path)
        if actual != sha256:
            message = (
                f"plan {file_name} for {stack.label} changed since it was planned "
                f"(sha256 {actual[:12]}…, approved {sha256[:12]}…); plan again"
            )
            raise ToolError(message, call="terraform apply")
        return path

    def _plan_directory(self, stack: Stack) -> Path:
        """The stack's plan store, cleared of plans older than PLAN_RETENTION (never approved, or
        approved and abandoned: terraform would refuse them as stale by now anyway)."""
        directory = self._plan_dir / stack.name / (stack.workspace or "default")
        # Plan files hold variable values and state: readable by this service only.
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        cutoff = time.time() - PLAN_RETENTION.total_seconds()
        for old in directory.glob(f"*{PLAN_SUFFIX}"):
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
        return directory

    async def _run(self, stack: Stack, args: list[str]) -> CommandResult:
        env = self._env | ({"TF_WORKSPACE": stack.workspace} if stack.workspace else {})
        result = await self._runner.run(
            "terraform", args, time_limit=self._time_limit, env=env, cwd=stack.directory
        )
        if not result.ok:
            raise _failure(result)
        return result


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _failure(result: CommandResult) -> ToolError:
    """Terraform explains a failure in "Error: <headline>" paragraphs; the headlines make the message."""
    lines = (result.stderr or result.stdout).splitlines()
    headlines = list(
        dict.fromkeys(line[len("Error: ") :].strip() for line in lines if line.startswith("Error: "))
    )
    if not headlines:
        return result.failure("terraform")
    command = " ".join(result.argv[:2])
    message = f"terraform: `{command}` failed: {'; '.join(headlines[:3])}"
    return ToolError(message, call=command, status=result.exit_code)
