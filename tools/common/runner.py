"""The one way Carapulse runs a CLI (helm, terraform, git): no shell, an allowlisted binary, checked
argument values, a scrubbed environment, a private working directory, a timeout that kills the whole
process group, and capped, redacted output.

Arguments are built from literals written in code plus user data passed through `value()` (a
positional) or `option()` (`--flag=value`). `value()` refuses anything that starts with `-`, so a
release called `--kubeconfig=/etc/x` can never become an option.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tools.common.base import ToolError
from tools.common.redaction import Redactor

DEFAULT_OUTPUT_CAP = 1024 * 1024
# The only variables a child inherits from the service's environment; everything else it needs
# (credentials, KUBECONFIG, …) the tool passes explicitly.
INHERITED_VARIABLES = ("PATH", "LANG", "LC_ALL", "TZ", "SSL_CERT_FILE", "SSL_CERT_DIR")
_MAX_VALUE_LENGTH = 4096
_ARGUMENT_CHECK = "argument check"


class Value(str):
    """A user-supplied argument that has been checked: not empty, no leading `-`, no NUL or newline."""


def value(text: str | int | float) -> Value:
    text = str(text)
    if not text:
        raise ToolError("an empty value cannot be passed to a command", call=_ARGUMENT_CHECK)
    if text.startswith("-"):
        message = f"value {text[:40]!r} starts with '-' and would be read as an option"
        raise ToolError(message, call=_ARGUMENT_CHECK)
    _check_characters(text)
    return Value(text)


def option(name: str, text: str | int | float) -> str:
    """`--name=value`: attached, so a value starting with `-` stays a value."""
    if not name.startswith("-") or "=" in name:
        raise ValueError(f"option name {name!r} must start with '-' and hold no '='")
    text = str(text)
    _check_characters(text)
    return f"{name}={text}"


def _check_characters(text: str) -> None:
    if "\x00" in text or "\n" in text or "\r" in text:
        raise ToolError("a value holding NUL or a line break cannot be passed", call=_ARGUMENT_CHECK)
    if len(text) > _MAX_VALUE_LENGTH:
        raise ToolError(f"a value over {_MAX_VALUE_LENGTH} characters cannot be passed", call=_ARGUMENT_CHECK)


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def failure(self, tool: str) -> ToolError:
        """The failure as a step error: the command and the last lines it wrote to stderr."""
        detail = _tail(self.stderr) or _tail(self.stdout) or "no output"
        command = " ".join(self.argv[:3])
        message = f"{tool}: `{command}` exited {self.exit_code}: {detail}"
        return ToolError(message, call=command, status=self.exit_code)


@dataclass
class CliRunner:
    """Runs allowlisted binaries, resolved once (at start-up, so a missing binary is reported then)."""

    binaries: Mapping[str, Path]
    redactor: Redactor = field(default_factory=Redactor)
    output_cap: int = DEFAULT_OUTPUT_CAP
    base_environment: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def resolve(
        cls,
        names: Sequence[str],
        *,
        search_path: str | None = None,
        redactor: Redactor | None = None,
        output_cap: int = DEFAULT_OUTPUT_CAP,
        environ: Mapping[str, str] | None = None,
    ) -> CliRunner:
        """Find each binary on `search_path` (default $PATH); a missing one is a ToolError naming it."""
        environ = os.environ if environ is None else environ
        path = search_path if search_path is not None else environ.get("PATH", os.defpath)
        binaries: dict[str, Path] = {}
        for name in names:
            found = shutil.which(name, path=path)
            if found is None:
                raise ToolError(f"{name}: binary not found on PATH ({path})", call=f"resolve {name}")
            binaries[name] = Path(found)
        inherited = {key: environ[key] for key in INHERITED_VARIABLES if key in environ}
        return cls(
            binaries=binaries,
            redactor=redactor or Redactor(),
            output_cap=output_cap,
            base_environment=inherited,
        )

    async def run(
        self,
        binary: str,
        args: Sequence[str],
        *,
        time_limit: float,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stdin: bytes | None = None,
        check: bool = False,
    ) -> CommandResult:
        """Run `binary args…` and return its redacted output. Without `cwd` it runs in a fresh
        temporary directory removed afterwards. On timeout or cancellation the process group is
        killed before this returns, so no child outlives the step."""
        if binary not in self.binaries:
            raise ToolError(f"{binary}: not an allowed binary", call=binary)
        argv = (str(self.binaries[binary]), *args)
        with contextlib.ExitStack() as stack:
            workdir = cwd or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="carapulse-")))
            environment = {"HOME": str(workdir), **self.base_environment, **(env or {})}
            result = await self._spawn(argv, workdir, environment, stdin, time_limit)
        if check and not result.ok:
            raise result.failure(binary)
        return result

    async def _spawn(
        self,
        argv: tuple[str, ...],
        cwd: Path,
        environment: Mapping[str, str],
        stdin: bytes | None,
        time_limit: float,
    ) -> CommandResult:
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                cwd=cwd,
                env=dict(environment),
                stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise ToolError(f"{Path(argv[0]).name}: cannot start: {exc.strerror}", call=argv[0]) from None
        name = Path(argv[0]).name
        display = (name, *argv[1:])
        try:
            stdout, stderr, truncated = await asyncio.wait_for(
                self._communicate(process, stdin), timeout=time_limit
            )
        except TimeoutError:
            _kill_group(process)
            await process.wait()
            message = f"{name}: timed out after {time_limit:g}s and was killed"
            raise ToolError(message, call=" ".join(display[:2])) from None
        except BaseException:
            _kill_group(process)
            with contextlib.suppress(Exception):
                await asyncio.shield(process.wait())
            raise
        return CommandResult(
            argv=display,
            exit_code=process.returncode if process.returncode is not None else -1,
            stdout=self.redactor.redact(stdout),
            stderr=self.redactor.redact(stderr),
            truncated=truncated,
        )

    async def _communicate(
        self, process: asyncio.subprocess.Process, stdin: bytes | None
    ) -> tuple[str, str, bool]:
        if stdin is not None and process.stdin is not None:
            process.stdin.write(stdin)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                await process.stdin.drain()
            process.stdin.close()
        assert process.stdout is not None and process.stderr is not None
        (stdout, cut_out), (stderr, cut_err) = await asyncio.gather(
            _read_capped(process.stdout, self.output_cap), _read_capped(process.stderr, self.output_cap)
        )
        await process.wait()
        return stdout, stderr, cut_out or cut_err


async def _read_capped(stream: asyncio.StreamReader, cap: int) -> tuple[str, bool]:
    """Keep the first `cap` bytes and drain the rest, so a chatty child never blocks on a full pipe."""
    kept = bytearray()
    truncated = False
    while chunk := await stream.read(65536):
        room = cap - len(kept)
        if room > 0:
            kept += chunk[:room]
        if len(chunk) > room:
            truncated = True
    return kept.decode("utf-8", errors="replace"), truncated


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _tail(text: str, lines: int = 3) -> str:
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()][-lines:]
    return " / ".join(kept)[:500]
