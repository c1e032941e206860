"""What a helm plan pinned, checked against what an upgrade is about to use: the release's latest
revision, and the git commit and S3 object its values came from. A value that moved stops the upgrade
before helm runs; tools/common/pins.py words the refusal as for every tool."""

from __future__ import annotations

from collections.abc import Sequence

from tools.common.pins import require_unmoved
from tools.helm.args import UpgradeArgs
from tools.helm.client import Revision
from tools.helm.value_files import StepValues


def latest_revision(history: Sequence[Revision]) -> int:
    """The number an upgrade pins: the newest revision whatever its status (a failed upgrade by
    someone else moves it too), 0 for a release that is not installed."""
    return history[-1].revision if history else 0


def require_revision(args: UpgradeArgs, history: Sequence[Revision]) -> None:
    pinned = None if args.expected_revision is None else _revision(args.expected_revision)
    live = _revision(latest_revision(history))
    require_unmoved(f"helm release {args.ref}", pinned=pinned, live=live, call="helm history")


def require_values(args: UpgradeArgs, values: StepValues) -> None:
    """The values just read are the ones the plan read: the same commit, the same object version."""
    if values.git is not None:
        what = f"values_git {values.git.ref}"
        require_unmoved(what, pinned=args.values_git_commit, live=values.git.commit, call="git fetch")
    if values.s3 is not None:
        what, call = f"values_s3 {values.s3.uri}", "s3:GetObject"
        require_unmoved(what, pinned=args.values_s3_version, live=values.s3.version_id, call=call)
        require_unmoved(what, pinned=args.values_s3_etag, live=values.s3.etag, call=call)


def _revision(number: int) -> str:
    return f"revision {number}" if number else "not installed"
