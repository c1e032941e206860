"""The image's build recipe, read with Docker's own parser (no daemon runs here): two stages, a slim
final image without build tools that runs `carapulse serve` as a non-root user, and a health check
that really probes /healthz."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

import dockerfile
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp

from bot.after_ack import RequestGate
from bot.cli import _parser
from bot.db.engine import create_engine
from bot.edge import DEFAULT_MAX_REQUEST_BYTES, Intake
from bot.http import web_app
from bot.readiness import Readiness, SlackAuth

ROOT = Path(__file__).resolve().parents[3]
BUILD_TOOLS = ("build-essential", "gcc", "g++", "make", "clang", "python3-dev", "libpq-dev")


def _stages() -> list[list[dockerfile.Command]]:
    stages: list[list[dockerfile.Command]] = []
    for command in dockerfile.parse_file(str(ROOT / "Dockerfile")):
        if command.cmd == "FROM":
            stages.append([])
        stages[-1].append(command)
    return stages


def _final() -> list[dockerfile.Command]:
    return _stages()[-1]


def _last(stage: Sequence[dockerfile.Command], instruction: str) -> dockerfile.Command:
    found = [command for command in stage if command.cmd == instruction]
    assert found, f"the final stage has no {instruction}"
    return found[-1]


def test_the_image_is_built_in_two_stages_on_a_slim_python_311() -> None:
    stages = _stages()
    assert len(stages) >= 2
    builder_name = stages[0][0].value[-1]
    assert stages[0][0].value[1:] == ("AS", builder_name)
    assert _final()[0].value[0] == "python:3.11-slim"


def test_the_builder_makes_wheels_and_the_final_stage_installs_only_those() -> None:
    builder_runs = " ".join(" ".join(c.value) for c in _stages()[0] if c.cmd == "RUN")
    assert "pip wheel" in builder_runs
    installs = [c for c in _final() if c.cmd == "RUN" and "pip install" in c.value[0]]
    assert len(installs) == 1
    (install,) = installs
    # Wheels come through a bind mount of the builder, so they are in no layer of the image, and
    # --no-index means nothing is fetched or compiled in the final stage.
    assert any(flag.startswith("--mount=type=bind,from=") for flag in install.flags)
    assert "--no-index" in install.value[0]


def test_no_build_tools_reach_the_final_image() -> None:
    for command in _final():
        text = " ".join(command.value)
        assert "apt-get install" not in text and "apk add" not in text, command.original
        for tool in BUILD_TOOLS:
            assert tool not in text.split(), f"{tool} in {command.original}"
        if command.cmd == "COPY":
            assert not any(flag.startswith("--from=") for flag in command.flags), command.original


def test_the_final_image_runs_as_a_numeric_non_root_user() -> None:
    user = _last(_final(), "USER").value[0]
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0
    # Nothing after USER switches back.
    after_user = _final()[[c.cmd for c in _final()].index("USER") :]
    assert [c.cmd for c in after_user].count("USER") == 1


def test_the_entrypoint_is_carapulse_serve() -> None:
    entrypoint, cmd = _last(_final(), "ENTRYPOINT"), _last(_final(), "CMD")
    assert entrypoint.json and cmd.json
    assert (*entrypoint.value, *cmd.value) == ("carapulse", "serve")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["carapulse"] == "bot.cli:main"
    assert _parser().parse_args(["serve"]).run.__name__ == "_serve"


def test_the_sources_copied_are_the_packages_and_the_policies_the_settings_point_at() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {name.rstrip("*") for name in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    builder_copies = {c.value[0] for c in _stages()[0] if c.cmd == "COPY"}
    assert packages <= builder_copies
    env = dict(zip(*[iter(_last(_final(), "ENV").value)] * 2, strict=True))
    workdir = _last(_final(), "WORKDIR").value[0]
    (policies,) = [c for c in _final() if c.cmd == "COPY" and c.value[0] == "policies"]
    assert env["POLICY_DIR"] == str(Path(workdir) / policies.value[1])
    assert (ROOT / "policies").is_dir()


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", "*.db", "tests"} <= ignored
    copied = {c.value[0] for stage in _stages() for c in stage if c.cmd == "COPY"}
    for source in copied:
        for name in source.split():
            assert name not in ignored, f"{name} is copied but .dockerignore leaves it out"


@pytest.mark.parametrize("serving", [True, False])
async def test_the_health_check_passes_only_while_healthz_answers(serving: bool, tmp_path: Path) -> None:
    check = _last(_final(), "HEALTHCHECK")
    assert check.json and check.value[0] == "CMD" and check.value[1] == "python"
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'health.db'}")
    bolt = AsyncApp(name="carapulse", token="xoxb-health", request_verification_enabled=False)
    readiness = Readiness(engine, worker=None, slack=SlackAuth(None))
    app = web_app(
        bolt,
        engine,
        RequestGate(),
        Intake(),
        readiness,
        signing_secret="",
        max_request_bytes=DEFAULT_MAX_REQUEST_BYTES,
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    if not serving:
        await runner.cleanup()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *check.value[2:], env={"PORT": str(port)}, stderr=subprocess.DEVNULL
        )
        assert await asyncio.wait_for(process.wait(), 10) == (0 if serving else 1)
    finally:
        await runner.cleanup()
        await engine.dispose()
