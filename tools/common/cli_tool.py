"""What every CLI-backed tool (helm, terraform) needs around `tools.common.runner`: binaries resolved under a
logical name though configured as another name or path, output redacted without breaking JSON, the
service variables a CLI may see, and the CLI's JSON output parsed with an error a person can read."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any

from pydantic import BeforeValidator

from tools.common.base import ToolError
from tools.common.redaction import Redactor
from tools.common.runner import DEFAULT_OUTPUT_CAP, CliRunner, CommandResult


def _split_names(raw: object) -> object:
    if isinstance(raw, str):
        return tuple(name.strip() for name in raw.split(",") if name.strip())
    return raw


# "AWS_PROFILE, AWS_REGION" in an environment variable → ("AWS_PROFILE", "AWS_REGION").
NameList = Annotated[tuple[str, ...], BeforeValidator(_split_names)]


@dataclass(frozen=True)
class JsonRedactor(Redactor):
    """Redacts a JSON document value by value, so a value under a secret-sounding key is masked whole
    (`{"password": "hunter2"}`), which text redaction of the document cannot see. Output that is not a
    JSON document is redacted as text."""

    def redact(self, text: str) -> str:
        if text.lstrip()[:1] in ("{", "["):
            try:
                document = json.loads(text)
            except ValueError:
                pass
            else:
                return json.dumps(Redactor(self.literals, self.patterns).redact_data(document))
        return super().redact(text)


def resolve_runner(
    commands: Mapping[str, str], environ: Mapping[str, str], *, output_cap: int = DEFAULT_OUTPUT_CAP
) -> CliRunner:
    """A runner that knows each binary by its logical name ("helm") while the operator may have
    configured another name or an absolute path (HELM_BIN=/opt/helm-3.15/helm). A binary that cannot
    be found is a ToolError, so start-up stops with one line."""
    runner = CliRunner.resolve(
        list(commands.values()), environ=environ, output_cap=output_cap, redactor=JsonRedactor()
    )
    return replace(runner, binaries={name: runner.binaries[command] for name, command in commands.items()})


def passed_environment(environ: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    """The variables among `names` that are set: the runner scrubs everything else from a child."""
    return {name: environ[name] for name in names if environ.get(name)}


def parse_json(result: CommandResult, tool: str) -> Any:
    """The command's stdout as JSON. Output cut at the runner's cap, or text that is not JSON, is a
    ToolError naming the command rather than a traceback."""
    command = " ".join(result.argv[:2])
    if result.truncated:
        raise ToolError(f"{tool}: `{command}` printed more output than Carapulse keeps", call=command)
    try:
        return json.loads(result.stdout)
    except ValueError:
        start = result.stdout.strip()[:80] or "nothing"
        raise ToolError(
            f"{tool}: `{command}` printed output that is not JSON: {start!r}", call=command
        ) from None


def shape_error(result: CommandResult, tool: str, missing: object) -> ToolError:
    """JSON that parsed but lacks what the CLI's format promises (a field, a type)."""
    command = " ".join(result.argv[:2])
    return ToolError(f"{tool}: `{command}` printed JSON of an unexpected shape ({missing})", call=command)
