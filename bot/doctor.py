"""`carapulse doctor`: checks a deployment's configuration, database, Slack token and scopes,
tools and policy, and prints one line per check with what to fix; exits 1 when any check fails.

It loads the settings itself (a broken configuration is its first finding, not a crash) and runs
the checks that need them only once they load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Mapping
from pathlib import Path

from bot import doctor_checks
from bot.doctor_checks import Finding

DEFAULT_MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yml"


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    doctor = commands.add_parser(
        "doctor", help="check configuration, database, Slack token and scopes, tools and policy"
    )
    doctor.add_argument("--socket", action="store_true", help="check the settings Socket Mode needs")
    doctor.add_argument(
        "--manifest",
        type=Path,
        default=DEFAULT_MANIFEST,
        help="the Slack app manifest whose scopes to expect",
    )
    doctor.set_defaults(run_plain=run)


def run(args: argparse.Namespace) -> int:
    findings = asyncio.run(diagnose(os.environ, socket=args.socket, manifest=args.manifest))
    for finding in findings:
        print(finding.line())
    failed = sum(finding.status == "FAIL" for finding in findings)
    print(f"{failed} check{'s' if failed != 1 else ''} failed" if failed else "all checks passed")
    return 1 if failed else 0


async def diagnose(environ: Mapping[str, str], *, socket: bool, manifest: Path | None) -> list[Finding]:
    settings, loaded = await doctor_checks.configuration(socket=socket, environ=environ)
    if settings is None:
        return [
            loaded,
            Finding("the rest", "skip", "database, Slack, tools and policy need the configuration"),
        ]
    return [
        loaded,
        *await doctor_checks.database(settings),
        *await doctor_checks.slack(settings, manifest),
        *await doctor_checks.tools(environ),
        doctor_checks.policy(settings),
    ]
