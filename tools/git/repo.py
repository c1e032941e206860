"""Clones of allowed remotes under GIT_WORKDIR, and the git commands Carapulse runs in them.

One directory per remote, reused and fetched before every step. A step works on a detached checkout
of the commit it read, and pushes that commit with a lease on the branch's previous tip, so nothing a
failed step left behind leaks into the next one and a branch that moved meanwhile is never
overwritten. A lock per remote (an asyncio lock in this process, `flock` across processes) keeps two
steps out of one work tree.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tools.common.base import ToolError
from tools.common.runner import CliRunner, CommandResult, option, value

_TOOL = "git"
# Push results git prints when the remote branch is not what the lease expected.
_MOVED = ("stale info", "fetch first", "non-fast-forward", "already exists")


@dataclass(frozen=True)
class Author:
    name: str
    email: str


@dataclass
class GitWorkspace:
    """`environment` is what every git command gets on top of the runner's scrubbed one: credentials,
    the committer identity and the settings that keep user and system git config out."""

    root: Path
    runner: CliRunner
    allowed_remotes: tuple[str, ...]
    environment: Mapping[str, str]
    command_timeout: float = 120.0
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict, init=False, repr=False)

    def check_allowed(self, remote: str) -> None:
        if not any(_under_prefix(remote, prefix) for prefix in self.allowed_remotes):
            raise ToolError(f"git: remote {remote} is not under GIT_ALLOWED_REMOTES", call="remote check")

    @contextlib.asynccontextmanager
    async def open(self, remote: str) -> AsyncIterator[Repository]:
        """The remote's clone, fetched, held exclusively until the block ends."""
        self.check_allowed(remote)
        slug = _slug(remote)
        (self.root / "repos").mkdir(parents=True, exist_ok=True)
        async with (
            self._locks.setdefault(slug, asyncio.Lock()),
            _file_lock(self.root / "repos" / f"{slug}.lock"),
        ):
            repository = Repository(self, remote, self.root / "repos" / slug)
            await repository.sync()
            yield repository


@dataclass
class Repository:
    workspace: GitWorkspace
    remote: str
    path: Path

    async def sync(self) -> None:
        if not (self.path / ".git").is_dir():
            await self._clone()
        # A git killed at a step's timeout leaves its lock behind; holding the remote's lock, we know
        # no git is running here, so the lock is stale.
        (self.path / ".git" / "index.lock").unlink(missing_ok=True)
        await self.git("remote", "set-url", "origin", value(self.remote))
        await self.git("fetch", "--quiet", "--prune", "origin", doing=f"fetch {self.remote}")

    async def tip(self, branch: str) -> str | None:
        """The branch's commit on the remote as of the last fetch, or None when it does not exist."""
        result = await self.git(
            "rev-parse", "--verify", "--quiet", value(f"refs/remotes/origin/{branch}^{{commit}}"), ok=(0, 1)
        )
        return result.stdout.strip() or None

    async def require_tip(self, branch: str) -> str:
        tip = await self.tip(branch)
        if tip is None:
            raise ToolError(f"git: branch {branch} does not exist on {self.remote}", call="git rev-parse")
        return tip

    async def resolve(self, ref: str) -> str:
        """A remote branch's tip, or else the commit (or tag) `ref` names."""
        return await self.tip(ref) or await self.commit_id(ref)

    async def commit_id(self, ref: str) -> str:
        result = await self.git("rev-parse", "--verify", "--quiet", value(f"{ref}^{{commit}}"), ok=(0, 1))
        if not result.stdout.strip():
            message = f"git: {ref} is neither a branch nor a commit of {self.remote}"
            raise ToolError(message, call="git rev-parse")
        return result.stdout.strip()

    async def default_branch(self) -> str | None:
        """The branch the remote's HEAD names, as recorded when it was cloned."""
        result = await self.git("symbolic-ref", "--quiet", "refs/remotes/origin/HEAD", ok=(0, 1))
        return result.stdout.strip().removeprefix("refs/remotes/origin/") or None

    async def is_ancestor(self, commit: str, of: str) -> bool:
        result = await self.git("merge-base", "--is-ancestor", value(commit), value(of), ok=(0, 1))
        return result.exit_code == 0

    async def checkout(self, commit: str) -> None:
        await self.git("checkout", "--quiet", "--force", "--detach", value(commit))
        await self.git("clean", "--quiet", "-ffdx")

    def read_text(self, file: str) -> str:
        return self._file(file).read_text(encoding="utf-8")

    def write_text(self, file: str, text: str) -> None:
        self._file(file).write_text(text, encoding="utf-8")

    async def commit(self, files: Sequence[str], message: str, author: Author) -> str:
        await self.git("add", "--", *(value(file) for file in files))
        await self.git(
            "commit", "--quiet", "--no-verify", "--file=-", stdin=message.encode(), env=_author_env(author)
        )
        return await self.head()

    async def parents(self, commit: str) -> list[str]:
        return (await self.git("rev-list", "--parents", "--max-count=1", value(commit))).stdout.split()[1:]

    async def revert(self, commit: str, author: Author) -> str:
        """Revert `commit` on the checked-out tip; a conflict leaves no revert in progress behind.

        A merge commit is reverted against its first parent, the branch it was merged into, which is
        how a merged pull request is undone."""
        mainline = [option("--mainline", 1)] if len(await self.parents(commit)) > 1 else []
        result = await self.git(
            "revert", "--no-edit", *mainline, value(commit), env=_author_env(author), ok=None
        )
        if not result.ok:
            await self.git("revert", "--abort", ok=None)
            message = f"git: cannot revert {commit[:12]}: {_detail(result)}"
            raise ToolError(message, call="git revert", status=result.exit_code)
        return await self.head()

    async def head(self) -> str:
        return (await self.git("rev-parse", "HEAD")).stdout.strip()

    async def show_patch(self, commit: str) -> str:
        return (await self.git("show", "--format=", "--patch", value(commit))).stdout

    async def push(self, commit: str, branch: str, *, expected: str | None) -> None:
        """Point the remote `branch` at `commit` only if it still points at `expected` (None: only if
        it does not exist yet)."""
        await self._push(f"{commit}:refs/heads/{branch}", branch, expected or "")

    async def delete_branch(self, branch: str, *, expected: str) -> None:
        await self._push(f":refs/heads/{branch}", branch, expected)

    async def git(
        self,
        *args: str,
        ok: tuple[int, ...] | None = (0,),
        stdin: bytes | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        doing: str = "",
    ) -> CommandResult:
        """Run git in the clone; an exit code outside `ok` is a ToolError (`ok=None` accepts any),
        worded "cannot <doing>" when given."""
        result = await self.workspace.runner.run(
            _TOOL,
            args,
            time_limit=self.workspace.command_timeout,
            env={**self.workspace.environment, **(env or {})},
            cwd=cwd or self.path,
            stdin=stdin,
        )
        if ok is not None and result.exit_code not in ok:
            if not doing:
                raise result.failure(_TOOL)
            call = " ".join(result.argv[:2])
            raise ToolError(f"git: cannot {doing}: {_detail(result)}", call=call, status=result.exit_code)
        return result

    async def _push(self, refspec: str, branch: str, expected: str) -> None:
        lease = option("--force-with-lease", f"refs/heads/{branch}:{expected}")
        result = await self.git("push", "--porcelain", lease, "origin", value(refspec), ok=None)
        if result.ok:
            return
        rejected = [line for line in result.stdout.splitlines() if line.startswith("!")]
        reason = rejected[0].split("\t")[-1] if rejected else ""
        if any(word in reason for word in _MOVED):
            moved = f"git: branch {branch} moved on {self.remote} while Carapulse worked on it"
            message = f"{moved}; run the step again"
        elif reason:
            message = f"git: {self.remote} refused the push to {branch}: {reason}"
        else:
            message = f"git: push to {branch} of {self.remote} failed: {_detail(result)}"
        raise ToolError(message, call="git push", status=result.exit_code)

    async def _clone(self) -> None:
        """Clone beside the final directory and rename, so an interrupted clone never looks like one."""
        partial = self.path.with_name(f"{self.path.name}.cloning")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(self.path, ignore_errors=True)
        await self.git(
            "clone",
            "--quiet",
            "--no-checkout",
            "--",
            value(self.remote),
            value(str(partial)),
            cwd=partial.parent,
            doing=f"clone {self.remote}",
        )
        partial.rename(self.path)

    def _file(self, file: str) -> Path:
        """The work-tree file, refusing symlinks and anything that resolves outside the clone."""
        path = self.path / file
        root = self.path.resolve()
        inside = path.resolve().is_relative_to(root)
        links = any(part.is_symlink() for part in (path, *path.parents) if part.is_relative_to(self.path))
        if not inside or links:
            raise ToolError(
                f"git: {file} is a symlink or leaves the repository; refusing to edit it", call=_TOOL
            )
        if not path.is_file():
            raise ToolError(f"git: {file} does not exist in {self.remote}", call=_TOOL)
        return path


def _detail(result: CommandResult) -> str:
    lines = [line.strip() for line in (result.stderr + "\n" + result.stdout).splitlines() if line.strip()]
    return " / ".join(lines[-3:])[:500] or f"exit code {result.exit_code}"


def _author_env(author: Author) -> dict[str, str]:
    return {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email}


def _under_prefix(remote: str, prefix: str) -> bool:
    """`https://git.example/team` covers `https://git.example/team/app.git`, not `.../team-b/app.git`."""
    if remote == prefix:
        return True
    if not remote.startswith(prefix):
        return False
    return prefix.endswith(("/", ":")) or remote[len(prefix)] == "/"


def _slug(remote: str) -> str:
    """A readable directory name that stays unique per remote URL."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", re.sub(r"^[a-z+]+://", "", remote)).strip("._")[-60:]
    digest = hashlib.sha256(remote.encode()).hexdigest()[:10]
    return f"{readable}-{digest}"


@contextlib.asynccontextmanager
async def _file_lock(path: Path) -> AsyncIterator[None]:
    """An exclusive `flock` on `path`, taken in a thread. If the waiting step is cancelled, the
    descriptor is closed once the thread returns, which releases the lock it may just have taken."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    acquire = asyncio.ensure_future(asyncio.to_thread(fcntl.flock, descriptor, fcntl.LOCK_EX))
    try:
        await asyncio.shield(acquire)
    except BaseException:
        acquire.add_done_callback(lambda _: os.close(descriptor))
        raise
    try:
        yield
    finally:
        os.close(descriptor)
