"""The arguments of each helm action, checked before anything runs: DNS-1123 namespace and release
names, chart references helm can resolve without a local path, exact chart versions, and values (inline,
from git, from S3)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from tools.common.base import ActionArgs
from tools.helm.client import ReleaseRef, Wait
from tools.helm.values import GitValues, InlineValues
from tools.helm.values_s3 import S3ETag, S3Values, S3VersionId

_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_CHART_NAME = r"[a-z0-9][a-z0-9._-]*"
_CHART_REF = (
    rf"^(?:{_CHART_NAME}/{_CHART_NAME}"  # repo/chart, from a repository helm knows
    rf"|oci://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/{_CHART_NAME})+"  # a chart in an OCI registry
    r"|https://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~%-]+)+\.tgz)$"  # a packaged chart's URL
)

NamespaceName = Annotated[str, StringConstraints(max_length=63, pattern=rf"^{_DNS1123_LABEL}$")]
# helm's own rule: a DNS-1123 subdomain of at most 53 characters.
ReleaseName = Annotated[
    str, StringConstraints(max_length=53, pattern=rf"^{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*$")
]
ChartRef = Annotated[str, StringConstraints(max_length=512, pattern=_CHART_REF)]
# An exact chart version, so what was approved is what gets installed (no ranges such as "^1.2").
ChartVersion = Annotated[
    str, StringConstraints(max_length=64, pattern=r"^v?[0-9]+(\.[0-9]+){0,2}([-+][0-9A-Za-z.-]+)*$")
]
RevisionNumber = Annotated[int, Field(ge=1)]
# 0 stands for "not installed": helm numbers a release's first revision 1.
PinnedRevision = Annotated[int, Field(ge=0)]
CommitId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")]


class ListReleasesArgs(ActionArgs):
    namespace: NamespaceName | None = None
    limit: Annotated[int, Field(ge=1, le=256)] = 50
    offset: Annotated[int, Field(ge=0)] = 0


class ReleaseArgs(ActionArgs):
    namespace: NamespaceName
    release: ReleaseName

    @property
    def ref(self) -> ReleaseRef:
        return ReleaseRef(self.namespace, self.release)


class HistoryArgs(ReleaseArgs):
    max_revisions: Annotated[int, Field(ge=1, le=256)] = 20


class ValuesArgs(ReleaseArgs):
    revision: RevisionNumber | None = None
    all_values: bool = False


class WaitArgs(ReleaseArgs):
    wait: bool = True
    timeout_seconds: Annotated[int, Field(ge=1, le=1800)] = 300

    def waiting(self) -> Wait:
        return Wait(enabled=self.wait, timeout_seconds=self.timeout_seconds)


class UpgradeArgs(WaitArgs):
    chart: ChartRef
    version: ChartVersion | None = None
    values: InlineValues | None = None
    values_git: GitValues | None = None
    values_s3: S3Values | None = None
    reuse_values: bool = False
    # Pins: what a plan's dry run read. The upgrade (and its dry run) refuses to go on when the live value
    # moved since (tools/common/pins.py); None is "not pinned".
    expected_revision: PinnedRevision | None = None
    values_git_commit: CommitId | None = None
    values_s3_version: S3VersionId | None = None
    values_s3_etag: S3ETag | None = None

    @model_validator(mode="after")
    def _pins_have_their_source(self) -> Self:
        for pin, source in (
            ("values_git_commit", "values_git"),
            ("values_s3_version", "values_s3"),
            ("values_s3_etag", "values_s3"),
        ):
            if getattr(self, pin) is not None and getattr(self, source) is None:
                raise ValueError(f"{pin} pins {source}, which is not set")
        return self


class RollbackArgs(WaitArgs):
    revision: RevisionNumber | None = None
