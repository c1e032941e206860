"""The sandboxed CLI runner, driven with real child processes."""

from __future__ import annotations

import asyncio
import stat
import time
from pathlib import Path

import pytest

from tools.common.base import ToolError
from tools.common.runner import CliRunner, option, value


def _script(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def _wait_for_content(path: Path, limit: float = 10) -> None:
    deadline = time.monotonic() + limit
    while not (path.exists() and path.read_text().strip()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} was never written")
        time.sleep(0.02)


def _running(pid: int) -> bool:
    """Alive and not a zombie: an orphan whose parent was killed may wait to be reaped by init."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "bin"
    directory.mkdir()
    return directory


def _runner(bin_dir: Path, *names: str, **environ: str) -> CliRunner:
    return CliRunner.resolve(
        names, search_path=f"{bin_dir}:/usr/bin:/bin", environ={"PATH": "/usr/bin:/bin", **environ}
    )


async def test_argv_is_passed_without_a_shell(bin_dir: Path) -> None:
    _script(bin_dir, "echoargs", 'for a in "$@"; do echo "[$a]"; done')

    result = await _runner(bin_dir, "echoargs").run(
        "echoargs", ["status", value("a b; rm -rf /"), option("--ns", "-x")], time_limit=5
    )

    assert result.ok
    assert result.stdout.splitlines() == ["[status]", "[a b; rm -rf /]", "[--ns=-x]"]
    assert result.argv == ("echoargs", "status", "a b; rm -rf /", "--ns=-x")


def test_values_that_would_become_options_are_refused() -> None:
    for bad in ("--kubeconfig=/etc/shadow", "-rf", "", "a\nb", "nul\x00"):
        with pytest.raises(ToolError):
            value(bad)
    with pytest.raises(ToolError):
        option("--message", "two\nlines")


async def test_environment_is_scrubbed_to_what_the_tool_passes(bin_dir: Path) -> None:
    _script(bin_dir, "showenv", "env")
    runner = _runner(bin_dir, "showenv", LANG="C.UTF-8", AWS_SECRET_ACCESS_KEY="leak", SLACK_BOT_TOKEN="x")

    result = await runner.run("showenv", [], time_limit=5, env={"HELM_NAMESPACE": "shop"})

    variables = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert variables["HELM_NAMESPACE"] == "shop"
    assert variables["LANG"] == "C.UTF-8"
    assert "AWS_SECRET_ACCESS_KEY" not in variables
    assert "SLACK_BOT_TOKEN" not in variables


async def test_each_run_gets_a_private_working_directory_removed_afterwards(bin_dir: Path) -> None:
    _script(bin_dir, "where", "pwd; touch left-behind")
    runner = _runner(bin_dir, "where")

    first = (await runner.run("where", [], time_limit=5)).stdout.strip()
    second = (await runner.run("where", [], time_limit=5)).stdout.strip()

    assert first != second
    assert not await asyncio.to_thread(Path(first).exists)


async def test_timeout_kills_the_whole_process_group(bin_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "grandchild.pid"
    _script(bin_dir, "hang", f"sleep 30 & echo $! > {marker}; wait")
    started = time.monotonic()

    with pytest.raises(ToolError, match=r"hang: timed out after 0\.5s and was killed"):
        await _runner(bin_dir, "hang").run("hang", [], time_limit=0.5)

    assert time.monotonic() - started < 5
    await asyncio.sleep(0.1)
    assert not _running(int(marker.read_text()))


async def test_cancellation_kills_the_child(bin_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pid"
    _script(bin_dir, "hang", f"echo $$ > {marker}; exec sleep 30")
    task = asyncio.create_task(_runner(bin_dir, "hang").run("hang", [], time_limit=30))
    await asyncio.to_thread(_wait_for_content, marker)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert not _running(int(marker.read_text()))


async def test_output_is_capped_and_the_child_never_blocks(bin_dir: Path) -> None:
    _script(bin_dir, "chatty", "head -c 5000000 /dev/zero | tr '\\0' 'x'; echo done >&2")
    runner = CliRunner.resolve(
        ["chatty"], search_path=f"{bin_dir}:/usr/bin:/bin", environ={"PATH": "/usr/bin:/bin"}
    )
    runner.output_cap = 1000

    result = await runner.run("chatty", [], time_limit=10)

    assert result.ok
    assert len(result.stdout) == 1000
    assert result.truncated
    assert result.stderr.strip() == "done"


async def test_output_is_redacted(bin_dir: Path) -> None:
    _script(bin_dir, "leaky", "echo 'password=hunter2 token ghp_abcdefghijklmnopqrstuvwxyz0123'")

    result = await _runner(bin_dir, "leaky").run("leaky", [], time_limit=5)

    assert "hunter2" not in result.stdout
    assert "ghp_" not in result.stdout


async def test_a_failing_command_becomes_a_readable_error(bin_dir: Path) -> None:
    _script(bin_dir, "helm", 'echo "Error: release: not found" >&2; exit 1')

    with pytest.raises(ToolError) as raised:
        await _runner(bin_dir, "helm").run("helm", ["status", value("web")], time_limit=5, check=True)

    assert raised.value.message == "helm: `helm status web` exited 1: Error: release: not found"
    assert raised.value.status == 1


def test_a_missing_binary_is_named_at_resolve_time(bin_dir: Path) -> None:
    with pytest.raises(ToolError, match=r"^terraform: binary not found on PATH"):
        CliRunner.resolve(["terraform"], search_path=str(bin_dir), environ={})


async def test_only_resolved_binaries_may_run(bin_dir: Path) -> None:
    _script(bin_dir, "helm", "true")

    with pytest.raises(ToolError, match="not an allowed binary"):
        await _runner(bin_dir, "helm").run("sh", ["-c", "true"], time_limit=5)
