"""Argument types shared by the git, GitHub and GitLab tools: branch names, commit ids, remote URLs,
file paths in a repository and commit authors, checked before any command or request is built from them."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

_BRANCH_CHARACTERS = re.compile(r"^[A-Za-z0-9._/+@-]+$")


def _check_branch(name: str) -> str:
    """The rules of `git check-ref-format --branch` that a name made of safe characters can still break."""
    components = name.split("/")
    broken = (
        name.startswith(("-", "/"))
        or name.endswith(("/", "."))
        or ".." in name
        or "@{" in name
        or name == "@"
        or any(not part or part.startswith(".") or part.endswith(".lock") for part in components)
    )
    if broken or not _BRANCH_CHARACTERS.match(name):
        raise ValueError(f"{name[:60]!r} is not a valid branch name")
    return name


def _check_repository_file(path: str) -> str:
    parts = path.split("/")
    if path.startswith(("/", "-")) or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"{path[:60]!r} must be a relative path inside the repository, without '..'")
    return path


BranchName = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_check_branch)]
CommitSha = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{7,64}$")]
RepositoryFile = Annotated[
    str,
    StringConstraints(min_length=1, max_length=500, pattern=r"^[A-Za-z0-9._/@+-]+$"),
    AfterValidator(_check_repository_file),
]
RemoteUrl = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^[^\s-][^\s]*$")]
AuthorName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^<>\n\r\x00]+$")]
AuthorEmail = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^@\s<>]+@[^@\s<>]+$")]


# A dotted path to a value in a YAML file (`image.tag`).
YamlPath = Annotated[str, StringConstraints(max_length=300, pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")]
