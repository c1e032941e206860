"""Stand-in executables for CLI tools (helm, terraform): a script on PATH that checks each call's exact
argv against the transcript a test wrote, answers with the output the test gave (in the real CLI's
format), and logs what it saw: argv, working directory, environment, and the files it could read there.

A call that is not the next one in the transcript exits 2 with the difference on stderr, as a real
CLI does for a usage error, so the tool under test fails loudly instead of the test passing by luck.
"""

from __future__ import annotations

import json
import re
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_SCRIPT = r'''#!{python}
import json, os, re, sys, time
from pathlib import Path

state = Path({state!r})
transcript = json.loads((state / "transcript.json").read_text())
log = state / "calls.jsonl"
index = len(log.read_text().splitlines()) if log.exists() else 0
argv = sys.argv[1:]


def snapshot(root):
    """Readable files under the working directory (not hidden ones), as the CLI would find them."""
    found = {{}}
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = [d for d in subdirectories if not d.startswith(".")]
        for name in names:
            path = Path(directory, name)
            if path.stat().st_size <= 65536:
                found[str(path.relative_to(root))] = path.read_text(errors="replace")
    return found


record = {{"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "files": snapshot(".")}}
record["pid"] = os.getpid()
with log.open("a") as out:
    out.write(json.dumps(record) + "\n")


def fail(message):
    sys.stderr.write(f"stand-in {{Path(sys.argv[0]).name}}: call {{index + 1}}: {{message}}\n")
    sys.exit(2)


if index >= len(transcript):
    fail(f"unexpected call {{argv}}; the transcript holds {{len(transcript)}} calls")
step = transcript[index]
expected = step["argv"]


def matches(pattern, actual):
    if "regex" in pattern:
        return re.fullmatch(pattern["regex"], actual) is not None
    return pattern["literal"] == actual


if len(expected) != len(argv) or not all(matches(p, a) for p, a in zip(expected, argv)):
    wanted = [p.get("literal", p.get("regex")) for p in expected]
    fail(f"unexpected argv {{argv}}, expected {{wanted}}")
for prefix, content in step["creates"].items():
    Path(next(a[len(prefix):] for a in argv if a.startswith(prefix))).write_text(content)
if step["hang"]:
    time.sleep(3600)
sys.stdout.write(step["stdout"])
sys.stderr.write(step["stderr"])
sys.exit(step["exit_code"])
'''


@dataclass(frozen=True)
class Call:
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    # Files under the working directory at call time, by relative path.
    files: dict[str, str]
    pid: int


class StandIn:
    """The executable `bin_dir/name`; its transcript and call log live in `bin_dir/.name/`."""

    def __init__(self, bin_dir: Path, name: str) -> None:
        self.path = bin_dir / name
        self._state = bin_dir / f".{name}"
        self._state.mkdir(parents=True)
        self._transcript: list[dict[str, object]] = []
        self._save()
        self.path.write_text(_SCRIPT.format(python=sys.executable, state=str(self._state)))
        self.path.chmod(self.path.stat().st_mode | stat.S_IEXEC)

    def expect(
        self,
        *argv: str | re.Pattern[str],
        stdout: str = "",
        stderr: str = "",
        exit_code: int = 0,
        hang: bool = False,
        creates: Mapping[str, str] | None = None,
    ) -> None:
        """The next call must have exactly `argv` (a compiled pattern must match its item whole).
        `creates` maps an option prefix such as "-out=" to content written to the path it names."""
        self._transcript.append(
            {
                "argv": [{"regex": a.pattern} if isinstance(a, re.Pattern) else {"literal": a} for a in argv],
                "stdout": stdout,
                "stderr": stderr,
                "exit_code": exit_code,
                "hang": hang,
                "creates": dict(creates or {}),
            }
        )
        self._save()

    @property
    def calls(self) -> list[Call]:
        log = self._state / "calls.jsonl"
        if not log.exists():
            return []
        records = [json.loads(line) for line in log.read_text().splitlines()]
        return [Call(r["argv"], Path(r["cwd"]), r["env"], r["files"], r["pid"]) for r in records]

    def assert_done(self) -> None:
        """Every call the transcript holds was made, and no other."""
        made = [call.argv for call in self.calls]
        assert len(made) == len(self._transcript), f"{self.path.name} made {len(made)} calls: {made}"

    def _save(self) -> None:
        (self._state / "transcript.json").write_text(json.dumps(self._transcript))
