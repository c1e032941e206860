"""The git tool driven through its entry point against real bare repositories on file:// remotes."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fakes.git_remote import BareRemote, git
from tests.integration.tools.git.support import git_environ
from tools.common.base import Action, ActionResult, ToolError
from tools.common.registry import Registry
from tools.common.toolset import NotConfigured, Toolset
from tools.git import toolset
from tools.git.repo import Repository

PROD = "envs/prod/values.yaml"
STAGING = "envs/staging/values.yaml"
PROD_VALUES = """\
# Production values: changes go through Carapulse.
image:
  repository: registry.example/checkout   # pulled by every node
  tag: "1.4.2"  # bumped by the release train
replicaCount: 3
env:
  - name: LOG_LEVEL
    value: info
"""
STAGING_VALUES = """\
image:
  repository: registry.example/checkout
  tag: "1.5.0"
replicaCount: 1
"""
AUTHOR = {"author_name": "Ada Lovelace", "author_email": "ada@example.com"}


@pytest.fixture
def remote(tmp_path: Path) -> BareRemote:
    return BareRemote(tmp_path, {PROD: PROD_VALUES, STAGING: STAGING_VALUES})


@pytest.fixture
def tools(tmp_path: Path) -> Toolset:
    return toolset(git_environ(tmp_path))


@pytest.fixture
def registry(tools: Toolset) -> Registry:
    return Registry(tools.actions)


async def run(registry: Registry, name: str, raw: dict[str, Any], *, dry_run: bool = False) -> ActionResult:
    action: Action[Any] = registry.get(name)
    args = action.parse_args(raw)
    return await (action.dry_run(args) if dry_run else action.run(args))


def set_tag(remote: BareRemote, tag: str, **extra: Any) -> dict[str, Any]:
    return {
        "remote": remote.url,
        "branch": "main",
        "file": PROD,
        "path": "image.tag",
        "value": tag,
        **AUTHOR,
        **extra,
    }


async def test_get_value_reads_a_value_by_dotted_path(registry: Registry, remote: BareRemote) -> None:
    raw = {"remote": remote.url, "branch": "main", "file": PROD, "path": "env.0.value"}

    result = await run(registry, "git.get_value", raw)

    assert result.summary == f"env.0.value in {PROD} on main is info"
    assert result.data["value"] == "info"
    assert result.data["commit"] == remote.tip()


async def test_set_value_commits_one_changed_line_as_the_requester_and_pushes(
    registry: Registry, remote: BareRemote
) -> None:
    before = remote.tip()

    result = await run(registry, "git.set_value", set_tag(remote, "1.5.0"))

    assert remote.show(PROD) + "\n" == PROD_VALUES.replace('tag: "1.4.2"', 'tag: "1.5.0"')
    assert remote.tip() == result.data["commit"]
    assert result.data["previous_commit"] == before
    assert result.data["previous_value"] == "1.4.2"
    assert result.summary == f"set image.tag 1.4.2 → 1.5.0 in {PROD} on main (commit {remote.tip()[:12]})"
    assert remote.log("%an <%ae>|%cn <%ce>|%s")[0] == (
        "Ada Lovelace <ada@example.com>|Carapulse <carapulse@localhost>|"
        f"Set image.tag 1.4.2 → 1.5.0 in {PROD}"
    )
    assert remote.log("%P")[0] == before


async def test_the_rollback_of_an_edit_reverts_its_commit(registry: Registry, remote: BareRemote) -> None:
    action = registry.get("git.set_value")
    args = action.parse_args(set_tag(remote, "1.5.0"))
    result = await action.run(args)
    remote.commit_files({"README.md": "someone else's later change\n"}, "Unrelated change")

    step = action.rollback(args, result)
    assert step is not None
    assert step.action == "git.revert_commit"
    assert step.args == {"remote": remote.url, "branch": "main", "commit": result.data["commit"], **AUTHOR}
    reverted = await run(registry, step.action, step.args)

    assert remote.show(PROD) + "\n" == PROD_VALUES
    assert remote.show("README.md") == "someone else's later change"
    assert reverted.data["reverted"] == result.data["commit"]
    assert (
        remote.log("%s|%an")[0]
        == 'Revert "Set image.tag 1.4.2 → 1.5.0 in envs/prod/values.yaml"|Ada Lovelace'
    )
    inverse = registry.get("git.revert_commit").rollback(
        registry.get("git.revert_commit").parse_args(step.args), reverted
    )
    assert inverse is not None and inverse.args["commit"] == reverted.data["commit"]


async def test_set_value_dry_run_shows_the_diff_and_pushes_nothing(
    registry: Registry, remote: BareRemote
) -> None:
    before = remote.tip()

    result = await run(registry, "git.set_value", set_tag(remote, "1.5.0"), dry_run=True)

    assert result.summary == f"dry run: would set image.tag 1.4.2 → 1.5.0 in {PROD} on main"
    assert result.data["diff"] == (
        f"--- a/{PROD}\n+++ b/{PROD}\n@@ -1,7 +1,7 @@\n"
        " # Production values: changes go through Carapulse.\n"
        " image:\n"
        "   repository: registry.example/checkout   # pulled by every node\n"
        '-  tag: "1.4.2"  # bumped by the release train\n'
        '+  tag: "1.5.0"  # bumped by the release train\n'
        " replicaCount: 3\n"
        " env:\n"
        "   - name: LOG_LEVEL\n"
    )
    assert result.data["commit"] is None
    assert remote.tip() == before


async def test_setting_the_value_it_already_has_commits_nothing(
    registry: Registry, remote: BareRemote
) -> None:
    before = remote.tip()
    action = registry.get("git.set_value")
    args = action.parse_args(set_tag(remote, "1.4.2"))

    result = await action.run(args)

    assert result.summary == f"image.tag in {PROD} on main is already 1.4.2; nothing to commit"
    assert remote.tip() == before
    assert action.rollback(args, result) is None


async def test_numbers_stay_numbers_and_a_custom_message_is_used(
    registry: Registry, remote: BareRemote
) -> None:
    raw = {
        **set_tag(remote, 5),
        "path": "replicaCount",
        "message": "Scale checkout for the sale\n\nTicket OPS-7",
    }

    await run(registry, "git.set_value", raw)

    assert "replicaCount: 5\n" in remote.show(PROD) + "\n"
    assert (
        git("log", "-1", "--format=%B", "main", cwd=remote.bare)
        == "Scale checkout for the sale\n\nTicket OPS-7"
    )


async def test_promote_copies_staging_value_into_production(registry: Registry, remote: BareRemote) -> None:
    raw = {
        "remote": remote.url,
        "branch": "main",
        "path": "image.tag",
        "source_file": STAGING,
        "target_file": PROD,
        **AUTHOR,
    }
    action = registry.get("git.promote_value")
    args = action.parse_args(raw)

    rehearsal = await action.dry_run(args)
    assert remote.show(PROD) + "\n" == PROD_VALUES
    result = await action.run(args)

    assert rehearsal.data["diff"] == result.data["diff"]
    assert result.summary.startswith(f"promote image.tag 1.5.0 from {STAGING} to {PROD} (was 1.4.2) on main")
    assert '  tag: "1.5.0"  # bumped by the release train' in remote.show(PROD)
    assert remote.show(STAGING) + "\n" == STAGING_VALUES
    step = action.rollback(args, result)
    assert step is not None
    await run(registry, step.action, step.args)
    assert remote.show(PROD) + "\n" == PROD_VALUES


async def test_a_branch_that_moved_during_the_edit_is_not_overwritten(
    registry: Registry, remote: BareRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = Repository.checkout

    async def someone_pushes_meanwhile(self: Repository, commit: str) -> None:
        await checkout(self, commit)
        remote.commit_files({"README.md": "raced\n"}, "A concurrent push")

    monkeypatch.setattr(Repository, "checkout", someone_pushes_meanwhile)

    with pytest.raises(ToolError) as raised:
        await run(registry, "git.set_value", set_tag(remote, "1.5.0"))

    assert raised.value.message == (
        f"git: branch main moved on {remote.url} while Carapulse worked on it; run the step again"
    )
    assert remote.log("%s")[0] == "A concurrent push"
    assert remote.show(PROD) + "\n" == PROD_VALUES


async def test_concurrent_steps_on_one_remote_take_turns(registry: Registry, remote: BareRemote) -> None:
    first = set_tag(remote, "1.5.0")
    second = {**set_tag(remote, 4), "path": "replicaCount"}

    await asyncio.gather(run(registry, "git.set_value", first), run(registry, "git.set_value", second))

    values = remote.show(PROD)
    assert 'tag: "1.5.0"' in values
    assert "replicaCount: 4" in values
    assert len(remote.log("%H")) == 3


async def test_create_branch_and_its_rollback_delete_it(registry: Registry, remote: BareRemote) -> None:
    raw = {"remote": remote.url, "branch": "carapulse/checkout-1.5.0", "from_ref": "main"}
    action = registry.get("git.create_branch")
    args = action.parse_args(raw)

    rehearsal = await action.dry_run(args)
    assert not remote.has_branch("carapulse/checkout-1.5.0")
    result = await action.run(args)

    assert (
        rehearsal.summary
        == f"dry run: would create branch carapulse/checkout-1.5.0 at {remote.tip()[:12]} (main)"
    )
    assert remote.tip("carapulse/checkout-1.5.0") == remote.tip() == result.data["commit"]
    again = await action.run(args)
    assert again.data["created"] is False
    assert action.rollback(args, again) is None

    await run(registry, "git.set_value", {**set_tag(remote, "1.5.0"), "branch": "carapulse/checkout-1.5.0"})
    step = action.rollback(args, result)
    assert step is not None and step.action == "git.delete_branch"
    deleted = await run(registry, step.action, step.args)

    assert not remote.has_branch("carapulse/checkout-1.5.0")
    assert deleted.summary.startswith("deleted branch carapulse/checkout-1.5.0 (was ")


async def test_deleting_a_branch_rolls_back_to_recreating_it(registry: Registry, remote: BareRemote) -> None:
    feature = remote.commit_files({"README.md": "feature\n"}, "Feature work", branch="feature")
    action = registry.get("git.delete_branch")
    args = action.parse_args({"remote": remote.url, "branch": "feature", "expected_commit": feature[:10]})

    result = await action.run(args)
    assert not remote.has_branch("feature")
    step = action.rollback(args, result)
    await run(registry, step.action, step.args)

    assert remote.tip("feature") == feature


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"branch": "main"}, "git: main is the default branch of {url}"),
        ({"branch": "feature", "expected_commit": "0000000"}, "git: branch feature is at {tip}, not 0000000"),
    ],
)
async def test_delete_branch_refuses_what_it_must_not_delete(
    registry: Registry, remote: BareRemote, raw: dict[str, str], message: str
) -> None:
    feature = remote.commit_files({"README.md": "feature\n"}, "Feature work", branch="feature")

    with pytest.raises(ToolError) as raised:
        await run(registry, "git.delete_branch", {"remote": remote.url, **raw})

    assert raised.value.message == message.format(url=remote.url, tip=feature[:12])
    assert remote.has_branch("main") and remote.has_branch("feature")


async def test_a_branch_that_is_already_gone_counts_as_deleted(
    registry: Registry, remote: BareRemote
) -> None:
    action = registry.get("git.delete_branch")
    args = action.parse_args({"remote": remote.url, "branch": "carapulse/merged-and-gone"})

    result = await action.run(args)

    assert result.summary == (
        f"branch carapulse/merged-and-gone does not exist on {remote.url}; nothing to delete"
    )
    assert action.rollback(args, result) is None


async def test_create_branch_starts_only_from_the_pinned_commit(
    registry: Registry, remote: BareRemote
) -> None:
    pinned = remote.tip()
    raw = {"remote": remote.url, "branch": "carapulse/deploy", "from_ref": "main", "expected_commit": pinned}
    await run(registry, "git.create_branch", raw, dry_run=True)
    moved = remote.commit_files({"README.md": "pushed after the plan\n"}, "Someone else's change")

    for dry_run in (True, False):
        with pytest.raises(ToolError) as raised:
            await run(registry, "git.create_branch", raw, dry_run=dry_run)
        assert raised.value.message == (
            f"main of {remote.url} changed since the plan was made (pinned {pinned}, now {moved}); "
            "make a new plan"
        )
    assert not remote.has_branch("carapulse/deploy")
    short = await run(registry, "git.create_branch", {**raw, "expected_commit": moved[:7]})
    assert short.data["created"] is True
    assert remote.tip("carapulse/deploy") == moved


async def test_a_push_the_remote_refuses_is_reported_with_its_reason(
    registry: Registry, remote: BareRemote
) -> None:
    remote.commit_files({"README.md": "feature\n"}, "Feature work", branch="feature")
    git("config", "receive.denyDeletes", "true", cwd=remote.bare)

    with pytest.raises(ToolError) as raised:
        await run(registry, "git.delete_branch", {"remote": remote.url, "branch": "feature"})

    assert (
        raised.value.message
        == f"git: {remote.url} refused the push to feature: [remote rejected] (deletion prohibited)"
    )
    assert raised.value.call == "git push"


async def test_create_branch_refuses_to_move_an_existing_branch(
    registry: Registry, remote: BareRemote
) -> None:
    feature = remote.commit_files({"README.md": "feature\n"}, "Feature work", branch="feature")

    with pytest.raises(ToolError) as raised:
        await run(
            registry, "git.create_branch", {"remote": remote.url, "branch": "feature", "from_ref": "main"}
        )

    assert raised.value.message == f"git: branch feature already exists on {remote.url} at {feature[:12]}"
    assert remote.tip("feature") == feature


async def test_a_merge_commit_is_reverted_against_the_branch_it_was_merged_into(
    registry: Registry, remote: BareRemote
) -> None:
    remote.commit_files({PROD: PROD_VALUES.replace('"1.4.2"', '"1.5.0"')}, "Bump", branch="release")
    remote.commit_files({"README.md": "main moved on\n"}, "Unrelated")
    merge = await remote.merge(
        "main", "release", message="Merge release", author=("GitHub", "gh@example.com")
    )
    assert merge is not None and len(remote.log("%P")[0].split()) == 2

    result = await run(
        registry, "git.revert_commit", {"remote": remote.url, "branch": "main", "commit": merge, **AUTHOR}
    )

    assert result.data["reverted"] == merge
    assert remote.show(PROD) + "\n" == PROD_VALUES
    assert remote.show("README.md") == "main moved on"


async def test_an_edit_on_a_proposal_branch_can_leave_its_undo_to_the_branchs_deletion(
    registry: Registry, remote: BareRemote
) -> None:
    await run(registry, "git.create_branch", {"remote": remote.url, "branch": "proposal", "from_ref": "main"})
    action = registry.get("git.set_value")
    args = action.parse_args({**set_tag(remote, "1.5.0"), "branch": "proposal", "revert_on_rollback": False})

    result = await action.run(args)

    assert result.data["commit"] == remote.tip("proposal")
    assert action.rollback(args, result) is None


async def test_revert_dry_run_shows_the_inverse_patch_and_pushes_nothing(
    registry: Registry, remote: BareRemote
) -> None:
    bump = remote.commit_files({PROD: PROD_VALUES.replace("replicaCount: 3", "replicaCount: 9")}, "Scale up")
    raw = {"remote": remote.url, "branch": "main", "commit": bump, **AUTHOR}

    result = await run(registry, "git.revert_commit", raw, dry_run=True)

    assert result.summary == f"dry run: would revert {bump[:12]} on main"
    assert "-replicaCount: 9\n+replicaCount: 3\n" in result.data["diff"]
    assert remote.tip() == bump
    await run(registry, "git.revert_commit", raw)
    assert "replicaCount: 3" in remote.show(PROD)


async def test_a_revert_that_conflicts_fails_readably_and_leaves_the_clone_usable(
    registry: Registry, remote: BareRemote
) -> None:
    bump = remote.commit_files({PROD: PROD_VALUES.replace('"1.4.2"', '"1.5.0"')}, "Bump")
    remote.commit_files({PROD: PROD_VALUES.replace('"1.4.2"', '"1.6.0"')}, "Bump again")

    with pytest.raises(ToolError) as raised:
        await run(
            registry, "git.revert_commit", {"remote": remote.url, "branch": "main", "commit": bump, **AUTHOR}
        )

    assert raised.value.message.startswith(f"git: cannot revert {bump[:12]}: ")
    assert "conflict" in raised.value.message.lower()
    result = await run(registry, "git.set_value", set_tag(remote, "1.7.0"))
    assert result.data["previous_value"] == "1.6.0"


async def test_reverting_a_commit_from_another_branch_is_refused(
    registry: Registry, remote: BareRemote
) -> None:
    other = remote.commit_files({"README.md": "x\n"}, "Elsewhere", branch="feature")

    with pytest.raises(ToolError, match=f"git: {other[:12]} is not on branch main of "):
        await run(
            registry, "git.revert_commit", {"remote": remote.url, "branch": "main", "commit": other, **AUTHOR}
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"branch": "release"}, "git: branch release does not exist on {url}"),
        ({"file": "envs/dev/values.yaml"}, "git: envs/dev/values.yaml does not exist in {url}"),
        ({"path": "image.digest"}, f"{PROD} has no image.digest"),
        ({"path": "env.2.value"}, f"{PROD}: env.2 is not an item of a 1-item list"),
        (
            {"path": "replicaCount.max"},
            f"{PROD} has no replicaCount.max: its parent is not a mapping or list",
        ),
    ],
)
async def test_missing_targets_are_named(
    registry: Registry, remote: BareRemote, change: dict[str, str], message: str
) -> None:
    with pytest.raises(ToolError) as raised:
        await run(registry, "git.set_value", {**set_tag(remote, "1.5.0"), **change})

    assert raised.value.message == message.format(url=remote.url)


async def test_a_file_that_would_be_reformatted_is_not_edited(registry: Registry, remote: BareRemote) -> None:
    remote.commit_files({PROD: "image:\n  tag:   '1.4.2'\n"}, "Odd spacing")
    before = remote.tip()

    with pytest.raises(ToolError) as raised:
        await run(registry, "git.set_value", set_tag(remote, "1.5.0"))

    assert raised.value.message == (
        f"{PROD} cannot be edited without reformatting it (line 2 would become \"tag: '1.4.2'\"); "
        "edit it by hand or normalise its layout first"
    )
    assert remote.tip() == before


async def test_a_symlink_out_of_the_repository_is_never_followed(
    registry: Registry, remote: BareRemote, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("image:\n  tag: secret\n")
    (remote.scratch / "envs" / "link.yaml").symlink_to(outside)
    git("add", "envs/link.yaml", cwd=remote.scratch)
    git("commit", "--quiet", "-m", "Link", cwd=remote.scratch)
    git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=remote.scratch)

    with pytest.raises(ToolError, match=r"envs/link\.yaml is a symlink or leaves the repository"):
        await run(registry, "git.set_value", {**set_tag(remote, "1.5.0"), "file": "envs/link.yaml"})

    assert outside.read_text() == "image:\n  tag: secret\n"


@pytest.mark.parametrize("suffix", ["-evil/deploy.git", "2/deploy.git"])
async def test_only_remotes_under_an_allowed_prefix_are_touched(
    registry: Registry, tmp_path: Path, suffix: str
) -> None:
    url = f"file://{tmp_path}/remotes{suffix}"

    with pytest.raises(ToolError) as raised:
        await run(
            registry, "git.get_value", {"remote": url, "branch": "main", "file": PROD, "path": "image.tag"}
        )

    assert raised.value.message == f"git: remote {url} is not under GIT_ALLOWED_REMOTES"
    assert not (tmp_path / "work" / "repos").exists()


async def test_a_hung_remote_is_killed_after_the_command_timeout(tmp_path: Path) -> None:
    # git runs GIT_SSH_COMMAND through a shell with the host and command appended; this one never answers.
    built = toolset(
        git_environ(
            tmp_path,
            GIT_ALLOWED_REMOTES="ssh://git.example.invalid/",
            GIT_SSH_COMMAND='sh -c "sleep 30"',
            GIT_COMMAND_TIMEOUT="0.5",
        )
    )
    raw = {
        "remote": "ssh://git.example.invalid/deploy.git",
        "branch": "main",
        "file": PROD,
        "path": "image.tag",
    }

    with pytest.raises(ToolError) as raised:
        await run(Registry(built.actions), "git.get_value", raw)

    assert raised.value.message == "git: timed out after 0.5s and was killed"


async def test_a_lock_left_by_a_killed_git_does_not_wedge_the_clone(
    registry: Registry, remote: BareRemote, tmp_path: Path
) -> None:
    await run(registry, "git.set_value", set_tag(remote, "1.5.0"))
    [clone] = [path for path in (tmp_path / "work" / "repos").iterdir() if path.is_dir()]
    (clone / ".git" / "index.lock").write_text("")

    result = await run(registry, "git.set_value", set_tag(remote, "1.6.0"))

    assert result.data["previous_value"] == "1.5.0"


async def test_an_unreachable_remote_fails_with_gits_own_words(registry: Registry, tmp_path: Path) -> None:
    url = f"file://{tmp_path}/remotes/missing.git"

    with pytest.raises(ToolError) as raised:
        await run(
            registry, "git.get_value", {"remote": url, "branch": "main", "file": PROD, "path": "image.tag"}
        )

    assert raised.value.message.startswith(f"git: cannot clone {url}: fatal: ")
    assert "Could not read from remote repository" in raised.value.message
    assert raised.value.call == "git clone"
    assert raised.value.status == 128


@pytest.mark.parametrize(
    "change",
    [
        {"branch": "-f"},
        {"branch": "a..b"},
        {"branch": "topic.lock"},
        {"branch": "a b"},
        {"branch": "x/"},
        {"file": "../outside.yaml"},
        {"file": "/etc/passwd"},
        {"file": "envs//prod.yaml"},
        {"path": "image..tag"},
        {"path": "image tag"},
        {"author_email": "ada"},
        {"author_name": "Ada <ada@evil>"},
        {"remote": "--upload-pack=touch /tmp/pwned"},
        {"value": None},
        {"force": True},
    ],
)
def test_set_value_rejects_unsafe_arguments(registry: Registry, change: dict[str, Any]) -> None:
    raw = {
        "remote": "file:///r.git",
        "branch": "main",
        "file": PROD,
        "path": "image.tag",
        "value": "1",
        **AUTHOR,
    }

    registry.get("git.set_value").parse_args(raw)
    with pytest.raises(ValidationError):
        registry.get("git.set_value").parse_args({**raw, **change})


def test_the_toolset_needs_a_work_dir_and_allowed_remotes(tmp_path: Path) -> None:
    with pytest.raises(NotConfigured, match="set GIT_WORKDIR to enable"):
        toolset({"GIT_ALLOWED_REMOTES": "https://git.example/"})
    with pytest.raises(ToolError, match="git: GIT_ALLOWED_REMOTES: Field required"):
        toolset({"GIT_WORKDIR": str(tmp_path)})
    with pytest.raises(ToolError, match="list at least one remote URL prefix"):
        toolset(git_environ(tmp_path, GIT_ALLOWED_REMOTES=" , "))
    with pytest.raises(ToolError, match=r"git\.example holds a password; pass it as GIT_HTTP_TOKEN"):
        toolset(git_environ(tmp_path, GIT_ALLOWED_REMOTES="https://bot:hunter2@git.example/"))
    with pytest.raises(ToolError, match="GIT_COMMAND_TIMEOUT"):
        toolset(git_environ(tmp_path, GIT_COMMAND_TIMEOUT="0"))
    (tmp_path / "file").write_text("")
    with pytest.raises(ToolError, match="git: GIT_WORKDIR: cannot use"):
        toolset(git_environ(tmp_path, GIT_WORKDIR=str(tmp_path / "file")))


def test_the_toolset_names_its_actions_and_where_clones_live(tmp_path: Path) -> None:
    built = toolset(
        git_environ(tmp_path, GIT_ALLOWED_REMOTES="https://git.example/a/, https://git.example/b/")
    )

    assert built.status == f"enabled, clones in {tmp_path / 'work'}, 2 allowed remote prefixes"
    assert [action.name for action in built.actions] == [
        "git.get_value",
        "git.set_value",
        "git.promote_value",
        "git.create_branch",
        "git.delete_branch",
        "git.revert_commit",
    ]
    assert [action.effect for action in built.actions].count("read") == 1


def test_an_https_token_is_sent_only_to_the_allowed_https_remotes(tmp_path: Path) -> None:
    built = toolset(
        git_environ(
            tmp_path,
            GIT_ALLOWED_REMOTES="https://git.example/team/,ssh://git.example/",
            GIT_HTTP_TOKEN="glpat-0123456789abcdefghij",
            GIT_HTTP_USERNAME="oauth2",
        )
    )
    env = {**built.actions[0].workspace.environment, "PATH": os.environ["PATH"]}  # type: ignore[attr-defined]

    def header_for(url: str) -> str:
        done = subprocess.run(
            ["git", "config", "--get-urlmatch", "http.extraHeader", url],
            env=env,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    # base64 of "oauth2:glpat-0123456789abcdefghij"
    assert header_for("https://git.example/team/app.git") == (
        "Authorization: Basic b2F1dGgyOmdscGF0LTAxMjM0NTY3ODlhYmNkZWZnaGlq"
    )
    assert header_for("https://git.example/other/app.git") == ""
    assert header_for("https://elsewhere.example/team/app.git") == ""
