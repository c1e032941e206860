"""Puts a step's values where `helm upgrade` reads them: one `--values` file per source in the run's
private working directory, in the order helm merges them (later files win): git, then S3, then the
step's inline YAML, so what a person types into the step overrides the shared files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.common.base import ToolError
from tools.helm.values import GitValuesFile, GitValuesRef, GitValuesSource
from tools.helm.values_s3 import S3Object, S3ValuesRef, S3ValuesSource

INLINE_VALUES_FILE = "values.yaml"


@dataclass(frozen=True)
class StepValues:
    """The files to hand helm, relative to the working directory, and where the shared ones came from
    (which git commit, which S3 object version)."""

    files: list[str] = field(default_factory=list)
    git: GitValuesFile | None = None
    s3: S3Object | None = None

    def as_data(self) -> dict[str, Any]:
        """For the action's result data: exactly which commit and object version helm received."""
        data: dict[str, Any] = {}
        if self.git is not None:
            data["values_git"] = self.git.as_data()
        if self.s3 is not None:
            data["values_s3"] = self.s3.as_data()
        return data


@dataclass(frozen=True)
class ValuesWriter:
    """`git` is None when HELM_VALUES_GIT_REPOS is unset, `s3` when HELM_VALUES_S3_BUCKETS is."""

    git: GitValuesSource | None = None
    s3: S3ValuesSource | None = None

    async def write(
        self, workdir: Path, *, inline: str | None, git_ref: str | None, s3_ref: str | None
    ) -> StepValues:
        files: list[str] = []
        git_file: GitValuesFile | None = None
        s3_object: S3Object | None = None
        if git_ref is not None:
            if self.git is None:
                raise _not_enabled("values_git", "HELM_VALUES_GIT_REPOS", "git")
            git_file = await self.git.fetch(GitValuesRef.parse(git_ref), workdir)
            files.append(git_file.path)
        if s3_ref is not None:
            if self.s3 is None:
                raise _not_enabled("values_s3", "HELM_VALUES_S3_BUCKETS", "S3")
            path, s3_object = await self.s3.fetch(S3ValuesRef.parse(s3_ref), workdir)
            files.append(path)
        if inline is not None:
            (workdir / INLINE_VALUES_FILE).write_text(inline, encoding="utf-8")
            files.append(INLINE_VALUES_FILE)
        return StepValues(files=files, git=git_file, s3=s3_object)


def _not_enabled(arg: str, variable: str, source: str) -> ToolError:
    return ToolError(f"{arg}: set {variable} to allow values from {source}", call=arg)
