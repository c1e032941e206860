"""The terraform tool driven through its entry point: against a stand-in `terraform` that checks every
argv and prints terraform's JSON plan format, and against the real terraform binary (built-in
`terraform_data` resources, so no provider is downloaded) where one is installed."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fakes.cli_standins import StandIn
from tests.fakes.terraform_output import SENSITIVE_VALUE, STALE_PLAN, STATE_LOCKED, plan
from tools.common.base import ActionResult, Effect, RiskHint, ToolError
from tools.common.registry import Registry
from tools.common.runner import CliRunner
from tools.common.toolset import NotConfigured
from tools.terraform import actions, toolset
from tools.terraform.client import TerraformClient

INIT = ("init", "-input=false", "-no-color")
PLAN = ("plan", "-input=false", "-no-color", "-lock-timeout=60s")
APPLY = ("apply", "-input=false", "-no-color", "-lock-timeout=60s")
PLAN_BYTES = "PK\x03\x04 a saved plan"
CHANGES = [
    ("aws_instance.web", ["create"]),
    ("aws_security_group.web", ["update"]),
    ("aws_eip.web", ["delete", "create"]),
    ("aws_s3_bucket.logs", ["delete"]),
    ("aws_vpc.main", ["no-op"]),
    ("data.aws_ami.ubuntu", ["read"]),
]


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "bin"
    directory.mkdir()
    return directory


@pytest.fixture
def root(tmp_path: Path) -> Path:
    stacks = tmp_path / "stacks"
    for stack in ("network", "apps/web"):
        (stacks / stack).mkdir(parents=True)
        (stacks / stack / "main.tf").write_text('resource "terraform_data" "marker" {}\n')
    return stacks


@pytest.fixture
def terraform(bin_dir: Path) -> StandIn:
    return StandIn(bin_dir, "terraform")


@pytest.fixture
def environ(bin_dir: Path, root: Path) -> dict[str, str]:
    return {
        "TERRAFORM_ROOT": str(root),
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "TERRAFORM_PASS_ENV": "AWS_PROFILE",
        "AWS_PROFILE": "ops",
        "SLACK_BOT_TOKEN": "xoxb-not-for-terraform",
    }


@pytest.fixture
def registry(environ: dict[str, str], terraform: StandIn) -> Registry:
    return Registry(toolset(environ).actions)


async def run(registry: Registry, name: str, raw: dict[str, Any], *, dry_run: bool = False) -> ActionResult:
    action = registry.get(name)
    args = action.parse_args(raw)
    return await (action.dry_run(args) if dry_run else action.run(args))


def saved_plan(root: Path, stack: str, workspace: str = "default") -> re.Pattern[str]:
    return re.compile(
        rf"{re.escape(str(root / '.carapulse-plans' / stack / workspace))}/[0-9a-f]{{32}}\.tfplan"
    )


def expect_plan(
    terraform: StandIn,
    root: Path,
    stack: str,
    shown: str,
    *,
    destroy: bool = False,
    workspace: str = "default",
) -> re.Pattern[str]:
    path = saved_plan(root, stack, workspace)
    terraform.expect(*INIT)
    mode = ["-destroy"] if destroy else []
    terraform.expect(*PLAN, *mode, re.compile(f"-out={path.pattern}"), creates={"-out=": PLAN_BYTES})
    terraform.expect("show", "-json", "-no-color", path, stdout=shown)
    return path


async def test_plan_saves_the_plan_and_summarises_it_without_attribute_values(
    registry: Registry, terraform: StandIn, root: Path
) -> None:
    expect_plan(terraform, root, "network", plan(CHANGES))

    result = await run(registry, "terraform.plan", {"stack": "network"})

    assert result.summary == (
        "plan for network: 2 to add, 1 to change, 2 to destroy "
        "(+ aws_instance.web, ~ aws_security_group.web, -/+ aws_eip.web, - aws_s3_bucket.logs)"
    )
    saved = root / ".carapulse-plans" / "network" / "default" / result.data["plan_file"]
    assert result.data["plan_sha256"] == hashlib.sha256(saved.read_bytes()).hexdigest()
    assert result.data | {"plan_file": None, "plan_sha256": None} == {
        "stack": "network",
        "workspace": None,
        "plan_file": None,
        "plan_sha256": None,
        "add": 2,
        "change": 1,
        "destroy": 2,
        "creates": ["aws_instance.web"],
        "updates": ["aws_security_group.web"],
        "replaces": ["aws_eip.web"],
        "deletes": ["aws_s3_bucket.logs"],
        "forgets": [],
        "imports": [],
        "terraform_version": "1.11.4",
    }
    assert SENSITIVE_VALUE not in str(result.data)
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    for call in terraform.calls:
        assert call.cwd == root / "network"
        assert call.env["TF_IN_AUTOMATION"] == "1"
        assert call.env["AWS_PROFILE"] == "ops"
        assert "SLACK_BOT_TOKEN" not in call.env
        assert "TF_WORKSPACE" not in call.env
    terraform.assert_done()


async def test_a_plan_in_a_workspace_of_a_nested_stack(
    registry: Registry, terraform: StandIn, root: Path
) -> None:
    expect_plan(
        terraform,
        root,
        "apps/web",
        plan([("aws_instance.web", ["create"])], importing=["aws_instance.web"]),
        workspace="prod",
    )

    result = await run(registry, "terraform.plan", {"stack": "apps/web", "workspace": "prod"})

    assert result.summary == (
        "plan for apps/web (workspace prod): 1 to import, 1 to add, 0 to change, 0 to destroy "
        "(+ aws_instance.web)"
    )
    assert {call.env["TF_WORKSPACE"] for call in terraform.calls} == {"prod"}
    assert terraform.calls[0].cwd == root / "apps" / "web"
    terraform.assert_done()


async def test_a_plan_without_changes_says_so(registry: Registry, terraform: StandIn, root: Path) -> None:
    expect_plan(terraform, root, "network", plan([("aws_vpc.main", ["no-op"])]))

    result = await run(registry, "terraform.plan", {"stack": "network"})

    assert result.summary == "plan for network: no changes"


async def test_apply_applies_exactly_the_saved_plan_and_then_removes_it(
    registry: Registry, terraform: StandIn, root: Path
) -> None:
    path = expect_plan(terraform, root, "network", plan(CHANGES))
    planned = await run(registry, "terraform.plan", {"stack": "network"})
    terraform.expect("show", "-json", "-no-color", path, stdout=plan(CHANGES))
    complete = "Apply complete! Resources: 2 added, 1 changed, 2 destroyed.\n"
    terraform.expect(*APPLY, path, stdout=f"aws_instance.web: Creating...\n\n{complete}")
    apply = registry.get("terraform.apply")
    args = apply.parse_args({"stack": "network", **_approved(planned)})

    result = await apply.run(args)

    assert result.summary == "applied network: 2 to add, 1 to change, 2 to destroy"
    assert result.data["outcome"] == complete.strip()
    assert terraform.calls[-1].argv[-1].endswith(planned.data["plan_file"])
    assert not (root / ".carapulse-plans" / "network" / "default" / planned.data["plan_file"]).exists()
    assert apply.risk is RiskHint.HIGH
    assert apply.rollback(args, result) is None
    terraform.assert_done()


async def test_apply_refuses_a_plan_file_that_changed_after_it_was_planned(
    registry: Registry, terraform: StandIn, root: Path
) -> None:
    expect_plan(terraform, root, "network", plan(CHANGES))
    planned = await run(registry, "terraform.plan", {"stack": "network"})
    (root / ".carapulse-plans" / "network" / "default" / planned.data["plan_file"]).write_text("another plan")

    with pytest.raises(ToolError, match=r"changed since it was planned \(sha256 [0-9a-f]{12}…, approved"):
        await run(registry, "terraform.apply", {"stack": "network", **_approved(planned)})

    terraform.assert_done()


@pytest.mark.parametrize(("stack", "workspace"), [("apps/web", None), ("network", "prod")])
async def test_apply_only_finds_a_plan_made_for_the_same_stack_and_workspace(
    registry: Registry, terraform: StandIn, root: Path, stack: str, workspace: str | None
) -> None:
    expect_plan(terraform, root, "network", plan(CHANGES))
    planned = await run(registry, "terraform.plan", {"stack": "network"})

    with pytest.raises(ToolError, match="not found: it was applied already, or never made"):
        await run(registry, "terraform.apply", {"stack": stack, "workspace": workspace, **_approved(planned)})

    terraform.assert_done()


async def test_apply_dry_run_checks_and_rereads_the_approved_plan(
    registry: Registry, terraform: StandIn, root: Path
) -> None:
    path = expect_plan(terraform, root, "network", plan(CHANGES))
    planned = await run(registry, "terraform.plan", {"stack": "network"})
    terraform.expect("show", "-json", "-no-color", path, stdout=plan(CHANGES))

    result = await run(registry, "terraform.apply", {"stack": "network", **_approved(planned)}, dry_run=True)

    assert result.summary.startswith(
        "dry run: would apply to network: 2 to add, 1 to change, 2 to destroy (+ "
    )
    assert (root / ".carapulse-plans" / "network" / "default" / planned.data["plan_file"]).exists()
    terraform.assert_done()


async def test_destroy_applies_the_destroy_plan_it_made_and_its_dry_run_keeps_nothing(
    registry: Registry, terraform: StandIn, root: Path
) -> None:
    gone = [("aws_instance.web", ["delete"]), ("aws_eip.web", ["delete"])]
    expect_plan(terraform, root, "network", plan(gone), destroy=True)
    path = expect_plan(terraform, root, "network", plan(gone), destroy=True)
    terraform.expect(*APPLY, path, stdout="Apply complete! Resources: 0 added, 0 changed, 2 destroyed.\n")

    rehearsal = await run(registry, "terraform.destroy", {"stack": "network"}, dry_run=True)
    result = await run(registry, "terraform.destroy", {"stack": "network"})

    assert rehearsal.summary == (
        "dry run: would destroy in network: 0 to add, 0 to change, 2 to destroy "
        "(- aws_instance.web, - aws_eip.web)"
    )
    assert result.summary == "destroyed network: 0 to add, 0 to change, 2 to destroy"
    assert result.data["deletes"] == ["aws_instance.web", "aws_eip.web"]
    applied, shown, planned = (call.argv[-1] for call in terraform.calls[-1:-4:-1])
    assert applied == shown == planned.removeprefix("-out=")
    assert list((root / ".carapulse-plans" / "network" / "default").iterdir()) == []
    assert registry.get("terraform.destroy").risk is RiskHint.HIGH
    terraform.assert_done()


async def test_list_state_reads_the_addresses(registry: Registry, terraform: StandIn) -> None:
    terraform.expect(*INIT)
    terraform.expect(
        "state", "list", stdout="aws_instance.web\naws_security_group.web\nmodule.db.aws_db_instance.main\n"
    )

    result = await run(registry, "terraform.list_state", {"stack": "network"})

    assert result.summary == (
        "network: 3 resources in state: "
        "aws_instance.web, aws_security_group.web, module.db.aws_db_instance.main"
    )
    assert result.data["count"] == 3
    terraform.assert_done()


@pytest.mark.parametrize(
    ("failing", "stderr", "message"),
    [
        (PLAN, STATE_LOCKED, "terraform: `terraform plan` failed: Error acquiring the state lock"),
        (
            INIT,
            "\nError: Failed to query available provider packages\n\nCould not retrieve the list\n",
            "terraform: `terraform init` failed: Failed to query available provider packages",
        ),
    ],
)
async def test_a_failing_terraform_is_reported_by_its_error_headline(
    registry: Registry, terraform: StandIn, root: Path, failing: tuple[str, ...], stderr: str, message: str
) -> None:
    terraform.expect(*INIT, **({"stderr": stderr, "exit_code": 1} if failing is INIT else {}))
    if failing is PLAN:
        terraform.expect(
            *PLAN, re.compile(f"-out={saved_plan(root, 'network').pattern}"), stderr=stderr, exit_code=1
        )

    with pytest.raises(ToolError) as raised:
        await run(registry, "terraform.plan", {"stack": "network"})

    assert raised.value.message == message
    assert raised.value.status == 1
    terraform.assert_done()


async def test_a_stale_plan_is_refused_by_terraform_with_its_reason(
    registry: Registry, terraform: StandIn, root: Path
) -> None:
    path = expect_plan(terraform, root, "network", plan(CHANGES))
    planned = await run(registry, "terraform.plan", {"stack": "network"})
    terraform.expect("show", "-json", "-no-color", path, stdout=plan(CHANGES))
    terraform.expect(*APPLY, path, stderr=STALE_PLAN, exit_code=1)

    with pytest.raises(ToolError, match=r"^terraform: `terraform apply` failed: Saved plan is stale$"):
        await run(registry, "terraform.apply", {"stack": "network", **_approved(planned)})

    terraform.assert_done()


@pytest.mark.parametrize(
    ("shown", "message"),
    [
        ("Plan: 1 to add, 0 to change, 0 to destroy.\n", "printed output that is not JSON: 'Plan: 1 to add"),
        (
            plan([("aws_instance.web", ["create", "teleport"])]),
            "unknown resource change actions ['create', 'teleport']",
        ),
        (
            '{"format_version": "1.2", "resource_changes": []}',
            "unexpected shape (KeyError: 'terraform_version')",
        ),
    ],
)
async def test_a_plan_that_cannot_be_read_faithfully_is_an_error(
    registry: Registry, terraform: StandIn, root: Path, shown: str, message: str
) -> None:
    expect_plan(terraform, root, "network", shown)

    with pytest.raises(ToolError) as raised:
        await run(registry, "terraform.plan", {"stack": "network"})

    assert raised.value.message.startswith("terraform: `terraform show` ")
    assert message in raised.value.message
    assert list((root / ".carapulse-plans" / "network" / "default").iterdir()) == [], (
        "no unreadable plan kept"
    )


async def test_planning_clears_plans_older_than_a_week_from_the_stack_store(
    registry: Registry, terraform: StandIn, root: Path
) -> None:
    store = root / ".carapulse-plans" / "network" / "default"
    store.mkdir(parents=True)
    abandoned, pending = store / f"{'a' * 32}.tfplan", store / f"{'b' * 32}.tfplan"
    for path in (abandoned, pending):
        path.write_text("old plan")
    eight_days_ago = time.time() - 8 * 86400
    os.utime(abandoned, (eight_days_ago, eight_days_ago))
    expect_plan(terraform, root, "network", plan(CHANGES))

    planned = await run(registry, "terraform.plan", {"stack": "network"})

    assert sorted(p.name for p in store.iterdir()) == sorted([pending.name, planned.data["plan_file"]])


async def test_a_hung_terraform_is_killed_at_the_time_limit(
    terraform: StandIn, environ: dict[str, str], root: Path
) -> None:
    terraform.expect(*INIT, hang=True)
    runner = CliRunner.resolve(["terraform"], environ=environ)
    client = TerraformClient(runner, root=root, plan_dir=root / ".plans", env={}, time_limit=0.5)

    with pytest.raises(ToolError, match=r"^terraform: timed out after 0\.5s and was killed$"):
        await run(Registry(actions(client)), "terraform.list_state", {"stack": "network"})

    assert not _alive(terraform.calls[0].pid)


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def _approved(planned: ActionResult) -> dict[str, str]:
    return {"plan_file": planned.data["plan_file"], "plan_sha256": planned.data["plan_sha256"]}


@pytest.mark.parametrize(
    "raw",
    [
        {"stack": "../etc"},
        {"stack": "/etc"},
        {"stack": "network/../../etc"},
        {"stack": ".carapulse-plans"},
        {"stack": "-destroy"},
        {"stack": ""},
        {"stack": "network", "workspace": "-prod"},
        {"stack": "network", "workspace": "prod/eu"},
        {"stack": "network", "plan_file": "0" * 32 + ".tfplan", "plan_sha256": "0" * 64},
        {"stack": "network", "target": "aws_instance.web"},
    ],
)
def test_stack_args_reject_paths_out_of_the_root_and_option_lookalikes(
    registry: Registry, raw: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        registry.get("terraform.plan").parse_args(raw)


@pytest.mark.parametrize(
    "raw",
    [
        {"plan_file": "../../network/default/" + "0" * 32 + ".tfplan", "plan_sha256": "0" * 64},
        {"plan_file": "0" * 32 + ".tfplan", "plan_sha256": "0" * 63},
        {"plan_file": "0" * 32 + ".tfplan"},
    ],
)
def test_apply_args_name_a_plan_file_and_its_full_sha256(registry: Registry, raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        registry.get("terraform.apply").parse_args({"stack": "network", **raw})


async def test_a_stack_that_is_missing_or_leads_out_of_the_root_runs_nothing(
    registry: Registry, terraform: StandIn, root: Path, tmp_path: Path
) -> None:
    (root / "escape").symlink_to(tmp_path / "bin")

    with pytest.raises(ToolError, match=r"^stack storage not found under TERRAFORM_ROOT"):
        await run(registry, "terraform.plan", {"stack": "storage"})
    with pytest.raises(ToolError, match=r"^stack escape leads outside TERRAFORM_ROOT"):
        await run(registry, "terraform.plan", {"stack": "escape"})

    terraform.assert_done()


def test_toolset_names_its_actions_and_their_risk(
    environ: dict[str, str], terraform: StandIn, root: Path
) -> None:
    built = toolset(environ)

    assert built.status == f"enabled, {terraform.path}, stacks under {root}"
    assert [(a.name, a.effect, a.risk) for a in built.actions] == [
        ("terraform.plan", Effect.READ, None),
        ("terraform.apply", Effect.WRITE, RiskHint.HIGH),
        ("terraform.list_state", Effect.READ, None),
        ("terraform.destroy", Effect.WRITE, RiskHint.HIGH),
    ]


def test_terraform_is_left_out_without_a_root() -> None:
    with pytest.raises(NotConfigured, match="set TERRAFORM_ROOT to enable"):
        toolset({"PATH": "/usr/bin:/bin"})


def test_a_root_that_does_not_exist_is_named(environ: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=f"^TERRAFORM_ROOT: directory {tmp_path / 'nowhere'} does not exist$"):
        toolset({**environ, "TERRAFORM_ROOT": str(tmp_path / "nowhere")})


def test_a_missing_terraform_stops_start_up_with_one_line(root: Path, tmp_path: Path) -> None:
    with pytest.raises(ToolError) as raised:
        toolset({"TERRAFORM_ROOT": str(root), "PATH": str(tmp_path)})

    assert (
        raised.value.message
        == f"terraform: binary not found on PATH ({tmp_path}); set TERRAFORM_BIN to its path"
    )


REAL_TERRAFORM = shutil.which("terraform", path="/usr/local/bin:/usr/bin:/bin")
STACK = """
variable "replicas" {
  type    = number
  default = 2
}
resource "terraform_data" "web" {
  input = var.replicas
}
resource "terraform_data" "db" {
  triggers_replace = [var.replicas]
}
"""


@pytest.fixture
def real(tmp_path: Path) -> Registry:
    if REAL_TERRAFORM is None:
        pytest.skip("terraform is not installed")
    root = tmp_path / "real"
    (root / "web").mkdir(parents=True)
    (root / "web" / "main.tf").write_text(STACK)
    return Registry(
        toolset(
            {"TERRAFORM_ROOT": str(root), "TERRAFORM_BIN": REAL_TERRAFORM, "PATH": "/usr/bin:/bin"}
        ).actions
    )


async def test_real_terraform_plans_applies_lists_and_destroys(real: Registry) -> None:
    web = {"stack": "web"}

    planned = await run(real, "terraform.plan", web)
    applied = await run(real, "terraform.apply", {**web, **_approved(planned)})
    state = await run(real, "terraform.list_state", web)
    again = await run(real, "terraform.plan", web)
    destroyed = await run(real, "terraform.destroy", web)
    after = await run(real, "terraform.list_state", web)

    assert (
        planned.summary
        == "plan for web: 2 to add, 0 to change, 0 to destroy (+ terraform_data.db, + terraform_data.web)"
    )
    assert applied.data["outcome"] == "Apply complete! Resources: 2 added, 0 changed, 0 destroyed."
    assert state.data["addresses"] == ["terraform_data.db", "terraform_data.web"]
    assert again.summary == "plan for web: no changes"
    assert destroyed.summary == "destroyed web: 0 to add, 0 to change, 2 to destroy"
    assert after.summary == "web: 0 resources in state"


async def test_real_terraform_refuses_a_plan_made_stale_by_another_apply(real: Registry) -> None:
    first = await run(real, "terraform.plan", {"stack": "web"})
    second = await run(real, "terraform.plan", {"stack": "web"})
    await run(real, "terraform.apply", {"stack": "web", **_approved(second)})

    with pytest.raises(ToolError, match=r"^terraform: `terraform apply` failed: Saved plan is stale$"):
        await run(real, "terraform.apply", {"stack": "web", **_approved(first)})
