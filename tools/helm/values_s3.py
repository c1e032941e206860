"""Values for `helm upgrade` read from an S3 object (`s3://bucket/key`, optionally `?versionId=…`), only
from buckets the operator listed in HELM_VALUES_S3_BUCKETS, through the boto3 sessions the aws tool uses
too (tools.common.aws: same AWS_* variables, retries and error messages). The object is checked (size,
UTF-8, a YAML mapping) and written byte for byte into the run's working directory, and the version that
was read is reported so a plan names exactly which object helm received."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import unquote

from pydantic import AfterValidator, StringConstraints

from tools.common.aws.environments import DEFAULT_ENVIRONMENT
from tools.common.aws.settings import AwsSettings
from tools.common.base import ToolError
from tools.common.toolset import NotConfigured, read_settings
from tools.helm.values import check_values_document

if TYPE_CHECKING:
    from tools.common.aws.client import AwsClients

S3_VALUES_FILE = "values-s3.yaml"
MAX_S3_VALUES_BYTES = 1024 * 1024
_BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
# AWS's "safe" key characters plus = + @ , (no '?', which starts the version, and no spaces).
_KEY = r"[A-Za-z0-9!_.*'()=+@,-][A-Za-z0-9!_.*'()=+@,/-]{0,1023}"
_S3_URI = re.compile(rf"^s3://(?P<bucket>{_BUCKET})/(?P<key>{_KEY})(?:\?versionId=(?P<version>[^&?#]+))?$")
# Version ids are opaque to clients; AWS's own are base64-like ("3/L4kq…+MTRCxf3vjV"), moto's UUIDs.
_VERSION = re.compile(r"^[A-Za-z0-9._+=/-]{1,1024}$")
_BUCKET_NAME = re.compile(rf"^{_BUCKET}$")


@dataclass(frozen=True)
class S3ValuesRef:
    bucket: str
    key: str
    version_id: str | None = None

    @classmethod
    def parse(cls, text: str) -> S3ValuesRef:
        """`s3://bucket/key` or `s3://bucket/key?versionId=…`; the version may be percent-encoded
        (`%2B`), and a literal '+' in it stays a '+' (it is not a form-encoded space)."""
        match = _S3_URI.match(text)
        if match is None:
            raise ValueError(
                "values_s3 must look like s3://<bucket>/<key> or s3://<bucket>/<key>?versionId=<id>"
            )
        version = unquote(match["version"]) if match["version"] else None
        if version is not None and not _VERSION.match(version):
            raise ValueError("values_s3 versionId holds characters S3 version ids never do")
        return cls(bucket=match["bucket"], key=match["key"], version_id=version)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def __str__(self) -> str:
        return self.uri + (f"?versionId={self.version_id}" if self.version_id else "")


def _check_s3_uri(text: str) -> str:
    S3ValuesRef.parse(text)
    return text


S3Values = Annotated[str, StringConstraints(max_length=3200), AfterValidator(_check_s3_uri)]
S3VersionId = Annotated[str, StringConstraints(pattern=_VERSION.pattern)]
# An MD5 in hex, "-<parts>" after a multipart upload's; other encryption modes give other hex strings.
S3ETag = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{1,128}(-[0-9]{1,5})?$")]


@dataclass(frozen=True)
class S3Object:
    """The object a step's values came from: with `version_id` (None in a bucket without versioning)
    and `etag`, a reader of the plan can tell exactly which content helm received."""

    uri: str
    version_id: str | None
    etag: str
    size: int

    def as_data(self) -> dict[str, Any]:
        return {"uri": self.uri, "version_id": self.version_id, "etag": self.etag, "size": self.size}


@dataclass(frozen=True)
class S3ValuesSource:
    """Reads one object per step, from allowed buckets only; AwsClients runs boto3's blocking calls in a
    worker thread and turns AWS errors (NoSuchKey, AccessDenied, …) into sentences with their code."""

    aws: AwsClients
    allowed_buckets: tuple[str, ...]
    max_bytes: int = MAX_S3_VALUES_BYTES

    async def fetch(self, ref: S3ValuesRef, workdir: Path) -> tuple[str, S3Object]:
        """The written file's path relative to `workdir`, and the object it holds."""
        if ref.bucket not in self.allowed_buckets:
            message = f"values_s3: bucket {ref.bucket} is not listed in HELM_VALUES_S3_BUCKETS"
            raise ToolError(message, call="values_s3")
        version = {"VersionId": ref.version_id} if ref.version_id else {}
        try:
            answer = await self.aws.call(
                DEFAULT_ENVIRONMENT, "s3", "GetObject", Bucket=ref.bucket, Key=ref.key, **version
            )
        except ToolError as error:
            message = f"values_s3 {ref}: {error.message.removeprefix('aws: ')}"
            raise ToolError(message, call=error.call, status=error.status) from None
        content = await self._read(ref, answer)
        try:
            check_values_document(content.decode("utf-8"))
        except UnicodeDecodeError:
            raise ToolError(f"values_s3 {ref}: the object is not UTF-8 text", call="values_s3") from None
        except ValueError as error:
            raise ToolError(f"values_s3 {ref}: {error}", call="values_s3") from None
        (workdir / S3_VALUES_FILE).write_bytes(content)
        read = S3Object(
            uri=ref.uri,
            version_id=answer.get("VersionId"),
            etag=str(answer.get("ETag", "")).strip('"'),
            size=len(content),
        )
        return S3_VALUES_FILE, read

    async def _read(self, ref: S3ValuesRef, answer: Mapping[str, Any]) -> bytes:
        """The body, refused unread past `max_bytes`: botocore checks it against Content-Length, so the
        size S3 announced is the most that is read."""
        # botocore is loaded by now (AwsClients made `answer`); this module loads without it.
        from botocore.exceptions import BotoCoreError

        body = answer["Body"]
        size = answer.get("ContentLength")
        try:
            if size is None or size > self.max_bytes:
                shown = f"is {size} bytes" if size is not None else "came without a Content-Length"
                limit = f"values from S3 are limited to {self.max_bytes} bytes"
                raise ToolError(f"values_s3 {ref}: the object {shown}; {limit}", call="s3:GetObject")
            return await asyncio.to_thread(body.read)
        except BotoCoreError as error:
            message = f"values_s3 {ref}: reading the object failed: {error}"
            raise ToolError(message, call="s3:GetObject") from None
        finally:
            body.close()


def s3_values_source(environ: Mapping[str, str], buckets: tuple[str, ...]) -> S3ValuesSource:
    """The source for HELM_VALUES_S3_BUCKETS, with region and credentials read from the same AWS_*
    variables as the aws tool (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, …). Bad
    settings are a ToolError naming the variable, at start-up."""
    for bucket in buckets:
        if not _BUCKET_NAME.match(bucket):
            message = f"helm: HELM_VALUES_S3_BUCKETS: {bucket!r} is not an S3 bucket name"
            raise ToolError(message, call="configuration")
    try:
        settings = read_settings("helm", AwsSettings, environ, required="AWS_REGION")
    except NotConfigured:
        message = "helm: HELM_VALUES_S3_BUCKETS needs AWS_REGION (and AWS credentials) to read from S3"
        raise ToolError(message, call="configuration") from None
    try:
        settings.check()
    except ToolError as error:
        raise ToolError(f"helm: {error.message.removeprefix('aws: ')}", call=error.call) from None
    environment = settings.resolved_environments()[DEFAULT_ENVIRONMENT]
    # boto3 is imported only when S3 values are configured.
    from tools.common.aws.client import AwsClients

    return S3ValuesSource(AwsClients({DEFAULT_ENVIRONMENT: environment}, settings.connection()), buckets)
