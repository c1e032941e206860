"""A real bare git repository standing in for a hosted GitOps repository.

Tests seed it, and play other people pushing, through a scratch clone; the GitHub, GitLab and Argo CD
fakes read its branches and merge into it, so what the git tool pushes is what they see and a merge
they report is a commit the git tool can revert.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

# Test-side git must not read the developer's config either.
TEST_GIT_ENV = {
    "PATH": os.environ["PATH"],
    "HOME": "/nonexistent",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "Seed",
    "GIT_AUTHOR_EMAIL": "seed@example.com",
    "GIT_COMMITTER_NAME": "Seed",
    "GIT_COMMITTER_EMAIL": "seed@example.com",
}


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=TEST_GIT_ENV, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


class BareRemote:
    """`root/remotes/<name>.git` with `files` committed on main, and a scratch clone beside it."""

    def __init__(self, root: Path, files: Mapping[str, str], *, name: str = "deploy") -> None:
        self.bare = root / "remotes" / f"{name}.git"
        self.url = f"file://{self.bare}"
        self.scratch = root / f"scratch-{name}"
        self.bare.mkdir(parents=True)
        git("init", "--quiet", "--bare", "--initial-branch=main", cwd=self.bare)
        git("clone", "--quiet", self.url, str(self.scratch), cwd=root)
        self.commit_files(files, "Initial values")

    # Seeding and inspecting, for tests.

    def commit_files(self, files: Mapping[str, str], message: str, branch: str = "main") -> str:
        git("fetch", "--quiet", "origin", cwd=self.scratch)
        if git("ls-remote", "--heads", "origin", branch, cwd=self.scratch):
            git("checkout", "--quiet", "--force", "-B", branch, f"origin/{branch}", cwd=self.scratch)
        for name, text in files.items():
            (self.scratch / name).parent.mkdir(parents=True, exist_ok=True)
            (self.scratch / name).write_text(text)
            git("add", name, cwd=self.scratch)
        git("commit", "--quiet", "-m", message, cwd=self.scratch)
        git("push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", cwd=self.scratch)
        return self.tip(branch)

    def tip(self, branch: str = "main") -> str:
        return git("rev-parse", f"refs/heads/{branch}", cwd=self.bare)

    def has_branch(self, branch: str) -> bool:
        return bool(git("for-each-ref", f"refs/heads/{branch}", cwd=self.bare))

    def show(self, file: str, ref: str = "main") -> str:
        return git("show", f"{ref}:{file}", cwd=self.bare)

    def log(self, fmt: str, ref: str = "main") -> list[str]:
        return git("log", f"--format={fmt}", ref, cwd=self.bare).splitlines()

    # What the hosting fakes read and do, without blocking the event loop they answer in.

    async def branches(self) -> dict[str, list[str]]:
        """Each branch's commits, oldest first, so its tip is the last."""
        names = (await self._git("for-each-ref", "--format=%(refname:short)", "refs/heads")).split()
        return {name: (await self._git("rev-list", "--reverse", name)).split() for name in names}

    async def resolve(self, ref: str) -> str | None:
        """A branch's tip or a commit's full id; None when `ref` names neither."""
        found = await self._git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", ok=(0, 1))
        return found or None

    async def read(self, commit: str, file: str) -> str | None:
        found = await self._git("cat-file", "-p", f"{commit}:{file}", ok=(0, 128), strip=False)
        return found or None

    async def merge(
        self, base: str, head: str, *, message: str, author: tuple[str, str], squash: bool = False
    ) -> str | None:
        """Merge `head` into `base` as a hosting service does, without a work tree: a merge commit
        (or a squashed one) on `base`; None when the branches conflict."""
        base_tip = await self._git("rev-parse", f"refs/heads/{base}")
        head_tip = await self._git("rev-parse", f"refs/heads/{head}")
        tree = await self._git("merge-tree", "--write-tree", base_tip, head_tip, ok=(0, 1))
        if not tree:
            return None
        parents = ["-p", base_tip] if squash else ["-p", base_tip, "-p", head_tip]
        name, email = author
        identity = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email}
        commit = await self._git("commit-tree", tree, *parents, "-m", message, env=identity)
        await self._git("update-ref", f"refs/heads/{base}", commit, base_tip)
        return commit

    async def delete_branch(self, branch: str) -> None:
        await self._git("update-ref", "-d", f"refs/heads/{branch}")

    async def _git(
        self, *args: str, ok: tuple[int, ...] = (0,), env: Mapping[str, str] | None = None, strip: bool = True
    ) -> str:
        process = await asyncio.create_subprocess_exec(
            "git",
            *args,
            cwd=self.bare,
            env={**TEST_GIT_ENV, **(env or {})},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        if process.returncode not in ok:
            raise RuntimeError(f"git {' '.join(args)} failed: {err.decode().strip()}")
        text = out.decode() if process.returncode == 0 else ""
        return text.strip() if strip else text
