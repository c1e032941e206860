"""The one way the AWS actions reach AWS: a boto3 session per configured environment, calls run in a
worker thread, botocore's own standard retry mode for throttling, and every failure turned into a
ToolError a person can act on.

boto3 blocks and its sessions are not thread-safe, so sessions and clients are built lazily under a
lock inside the worker thread and cached; clients themselves are thread-safe once built.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, TypeVar

import boto3
from botocore import xform_name
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    DeferredRefreshableCredentials,
)
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ProfileNotFound,
    ReadTimeoutError,
)
from botocore.session import Session as BotocoreSession

from tools.common.aws.environments import DEFAULT_ENVIRONMENT, AwsConnection, AwsEnvironment
from tools.common.base import ToolError

T = TypeVar("T")


class AwsClients:
    """Clients for each (environment, service), built on first use and shared by every action."""

    def __init__(self, environments: Mapping[str, AwsEnvironment], connection: AwsConnection) -> None:
        if DEFAULT_ENVIRONMENT not in environments:
            raise ValueError(f"the {DEFAULT_ENVIRONMENT!r} environment is required")
        self._environments = dict(environments)
        self._connection = connection
        self._config = Config(
            # AWS_MAX_ATTEMPTS counts the first try, as botocore's total_max_attempts does
            # (its `max_attempts` counts retries only).
            retries={"mode": "standard", "total_max_attempts": connection.max_attempts},
            connect_timeout=connection.connect_timeout,
            read_timeout=connection.read_timeout,
            user_agent_appid="carapulse",
        )
        self._sessions: dict[str, boto3.Session] = {}
        self._clients: dict[tuple[str, str], BaseClient] = {}
        self._lock = threading.Lock()

    @property
    def retry_config(self) -> Mapping[str, Any]:
        return dict(self._config.retries or {})

    def resolve(self, name: str | None) -> tuple[str, AwsEnvironment]:
        """The environment an action names (None: the base settings), or a ToolError listing those known."""
        key = name or DEFAULT_ENVIRONMENT
        environment = self._environments.get(key)
        if environment is None:
            known = ", ".join(sorted(self._environments))
            raise ToolError(f"aws: unknown environment {key!r}; configured: {known}", call="configuration")
        return key, environment

    def where(self, name: str | None) -> str:
        """How messages name an environment: its region, plus its name when a step chose one."""
        key, environment = self.resolve(name)
        return environment.region if key == DEFAULT_ENVIRONMENT else f"{key} ({environment.region})"

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
            self._sessions.clear()

    async def call(
        self, environment: str | None, service: str, operation: str, /, **params: Any
    ) -> dict[str, Any]:
        """One API call, e.g. `call(env, "ecs", "UpdateService", cluster=..., ...)`; `operation` is
        the API's own name so it can go straight into error messages."""
        method = xform_name(operation)
        return await self._run(
            environment, service, operation, lambda client: getattr(client, method)(**params)
        )

    async def paginate(
        self, environment: str | None, service: str, operation: str, /, *, limit: int, **params: Any
    ) -> dict[str, Any]:
        """A paginated operation's pages merged into one answer, following the service's own page
        tokens until `limit` items; the answer carries "NextToken" when there were more."""

        def pages(client: BaseClient) -> dict[str, Any]:
            paginator = client.get_paginator(xform_name(operation))
            return dict(
                paginator.paginate(**params, PaginationConfig={"MaxItems": limit}).build_full_result()
            )

        return await self._run(environment, service, operation, pages)

    async def _run(
        self, environment: str | None, service: str, operation: str, fn: Callable[[BaseClient], T]
    ) -> T:
        name, settings = self.resolve(environment)
        call = f"{service}:{operation}"
        where = self.where(environment)
        try:
            return await asyncio.to_thread(lambda: fn(self._client(name, settings, service)))
        except ClientError as error:
            raise _client_error(
                error, call=call, operation=operation, where=where, settings=settings
            ) from None
        except (EndpointConnectionError, ConnectTimeoutError) as error:
            raise ToolError(f"aws: cannot reach {service} for {where}: {error}", call=call) from None
        except ReadTimeoutError:
            message = f"aws: {call} in {where} timed out after {self._connection.read_timeout:g}s"
            raise ToolError(message, call=call) from None
        except NoCredentialsError:
            message = (
                f"aws: no credentials for {where}: set AWS_PROFILE, AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or run with an instance or task role"
            )
            raise ToolError(message, call=call) from None
        except ProfileNotFound as error:
            raise ToolError(f"aws: {error} (environment {name})", call=call) from None
        except ParamValidationError as error:
            detail = " ".join(str(error).split())  # botocore lists each problem on its own line
            raise ToolError(f"aws: {call} rejected its parameters: {detail}", call=call) from None
        except BotoCoreError as error:
            raise ToolError(f"aws: {call} in {where} failed: {error}", call=call) from None

    def _client(self, name: str, settings: AwsEnvironment, service: str) -> BaseClient:
        with self._lock:
            client = self._clients.get((name, service))
            if client is None:
                session = self._sessions.get(name)
                if session is None:
                    session = self._sessions[name] = self._session(settings)
                client = session.client(
                    service,
                    region_name=settings.region,
                    endpoint_url=self._connection.endpoint_url,
                    config=self._config,
                )
                self._clients[(name, service)] = client
            return client

    def _session(self, settings: AwsEnvironment) -> boto3.Session:
        keys = self._connection.static_keys if settings.profile is None else None
        source = boto3.Session(
            region_name=settings.region,
            profile_name=settings.profile,
            aws_access_key_id=keys.access_key_id if keys else None,
            aws_secret_access_key=keys.secret_access_key if keys else None,
            aws_session_token=keys.session_token if keys else None,
        )
        if settings.role_arn is None:
            return source
        return self._assumed_role_session(source, settings)

    def _assumed_role_session(self, source: boto3.Session, settings: AwsEnvironment) -> boto3.Session:
        """A session whose credentials come from STS AssumeRole on the source session's credentials,
        fetched on first use and refreshed by botocore before they expire."""
        credentials = source.get_credentials()
        if credentials is None:
            raise NoCredentialsError()
        fetcher = AssumeRoleCredentialFetcher(
            client_creator=partial(
                source.client, region_name=settings.region, endpoint_url=self._connection.endpoint_url
            ),
            source_credentials=credentials,
            role_arn=settings.role_arn,
            extra_args={"RoleSessionName": self._connection.role_session_name},
        )
        botocore_session = BotocoreSession()
        botocore_session.register_component(
            "credential_provider", CredentialResolver([_AssumedRole(fetcher)])
        )
        return boto3.Session(botocore_session=botocore_session, region_name=settings.region)


def check_profiles(environments: Mapping[str, AwsEnvironment]) -> None:
    """A ToolError naming the variable when an environment's profile is in neither the AWS config nor
    the credentials file."""
    wanted = {name: env.profile for name, env in environments.items() if env.profile is not None}
    if not wanted:
        return
    available = set(boto3.Session().available_profiles)
    for name, profile in wanted.items():
        if profile not in available:
            variable = "AWS_PROFILE" if name == DEFAULT_ENVIRONMENT else f"AWS_ENVIRONMENTS.{name}.profile"
            raise ToolError(
                f"aws: {variable}: profile {profile!r} is not in the AWS config or credentials file",
                call="configuration",
            )


class _AssumedRole(CredentialProvider):
    METHOD = "assume-role"
    CANONICAL_NAME = "carapulse-assume-role"

    def __init__(self, fetcher: AssumeRoleCredentialFetcher) -> None:
        super().__init__()
        self._fetcher = fetcher

    def load(self) -> DeferredRefreshableCredentials:
        return DeferredRefreshableCredentials(
            refresh_using=self._fetcher.fetch_credentials, method=self.METHOD
        )


def _client_error(
    error: ClientError, *, call: str, operation: str, where: str, settings: AwsEnvironment
) -> ToolError:
    details = error.response.get("Error", {})
    code = details.get("Code") or "Unknown"
    message = details.get("Message") or str(error)
    if code.isdigit():
        # botocore found no AWS error document (a proxy's HTML page, a crashed endpoint).
        code, message = f"HTTP {code}", "the answer carried no AWS error (is AWS_ENDPOINT_URL an AWS API?)"
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if error.operation_name and error.operation_name != operation:
        # The credential refresh failed, not the call itself (AssumeRole under the role session).
        text = f"aws: cannot assume role {settings.role_arn} for {where}: {code}: {message}"
        return ToolError(text, call=f"sts:{error.operation_name}", status=status)
    return ToolError(f"aws: {call} in {where} failed: {code}: {message}", call=call, status=status)
