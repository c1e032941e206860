"""secret_rotation: rotate a secret in Vault (a KV v2 key generated when the step runs, or a database
static role's password) or AWS Secrets Manager (its rotation function), restart the consumers so they
read it, and verify they are healthy.

Every act step is high risk whatever its action (two approvals or break-glass), and no secret value
is ever in the plan: a KV value is made by the step when it runs, Vault and AWS make the others.
A KV rotation is undone by writing the version read at planning back and restarting the consumers
again; the other backends cannot be undone, and the card says so.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints, TypeAdapter, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from bot.domain import RiskLevel, StepStage, Target
from bot.workflows.base import PlanningContext, StepDeclaration, Workflow, WorkflowInputs, WorkflowPlan
from bot.workflows.checks import check_step
from bot.workflows.consumers import Consumers
from bot.workflows.fields import AwsEnvironment, Check, EcsCluster, KubernetesName, Namespace
from bot.workflows.secret_backends import (
    ROTATE_ACTIONS,
    Rotation,
    aws_rotation,
    database_rotation,
    kv_rotation,
)
from bot.workflows.sentences import NAME, Sentence, named, sentence
from tools.aws.secrets import SecretId
from tools.vault.credentials import ObjectName
from tools.vault.kv import MountPath, SecretKey, SecretPath

MAX_CONSUMERS = 10
MAX_KEYS = 20
Backend = Literal["vault_kv", "vault_database", "aws"]
_PATH_RULES: dict[str, tuple[TypeAdapter[str], str]] = {
    "vault_kv": (TypeAdapter(SecretPath), "a KV path is letters, digits and ._@+=- in segments split by /"),
    "aws": (TypeAdapter(SecretId), "an AWS secret is named by letters, digits and /_+=.@:- (or its ARN)"),
}
_ROLE = TypeAdapter(ObjectName)
_KEY = TypeAdapter(SecretKey)
_ECS_NAME = TypeAdapter(Annotated[str, StringConstraints(max_length=255, pattern=r"^[A-Za-z0-9_-]+$")])
_K8S_NAME = TypeAdapter(KubernetesName)

_IN_NS = rf"(?:(?:in|-n|--namespace) (?:namespace )?{named('namespace')})"
_RESTART = rf"(?: and restart {named('consumers', rf'{NAME}(?:, ?{NAME})*')})?(?: {_IN_NS})?"
_PATH = named("path", r"[a-z0-9_.@+=:/-]+")


class RotationInputs(WorkflowInputs):
    # Named for references, never `secret…`: the card masks values under secret-sounding names.
    backend: Backend = Field(
        default="vault_kv", title="Where the secret lives", description="vault_kv, vault_database or aws"
    )
    path: Annotated[str, StringConstraints(min_length=1, max_length=2048)] | None = Field(
        default=None,
        validate_default=True,
        title="Path",
        description="vault_kv: the KV path, e.g. db/checkout; aws: the secret's name or ARN",
    )
    role: str | None = Field(
        default=None,
        validate_default=True,
        title="Database role",
        description="vault_database: the static role",
    )
    mount: MountPath | None = Field(
        default=None, title="Vault mount", description="Vault only; empty: secret (KV) or database"
    )
    keys: str = Field(
        default="password",
        title="Keys to generate",
        description="vault_kv: comma-separated; the secret's other keys are kept",
    )
    length: Annotated[int, Field(ge=16, le=256)] = Field(default=32, title="Generated length")
    alphabet: Literal["alphanumeric", "hex", "url_safe"] = Field(default="alphanumeric", title="Alphabet")
    consumer_kind: Literal["deployment", "ecs"] = Field(
        default="deployment", title="Consumers are", description="deployment or ecs"
    )
    consumers: str = Field(
        default="",
        title="Consumers to restart",
        description="Comma-separated Deployments (in namespace) or ECS services (in ecs_cluster)",
    )
    namespace: Namespace = "default"
    ecs_cluster: EcsCluster = None
    aws_environment: AwsEnvironment = None
    check: Check = None

    # Field validators, so a form shows each refusal beside its own field; `backend` and
    # `consumer_kind` are declared before the fields that depend on them.
    @field_validator("path")
    @classmethod
    def _path_fits_the_backend(cls, path: str | None, info: ValidationInfo) -> str | None:
        backend = info.data.get("backend")
        if backend == "vault_database":
            if path is not None:
                raise ValueError("vault_database rotates a static role: give role, not path")
            return None
        if backend not in _PATH_RULES:
            return path
        if path is None:
            raise _missing(f"{backend} needs the path of the secret to rotate")
        rule, message = _PATH_RULES[backend]
        return _checked(rule, path, message)

    @field_validator("role")
    @classmethod
    def _role_only_for_the_database(cls, role: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("backend") != "vault_database":
            if role is not None:
                raise ValueError("only vault_database rotates a static role")
            return None
        if role is None:
            raise _missing("vault_database needs the static role whose password to rotate")
        return _checked(_ROLE, role, "a role name is letters, digits and ._-")

    @field_validator("keys")
    @classmethod
    def _key_names(cls, keys: str) -> str:
        names = _listed(keys, "key", MAX_KEYS)
        for key in names:
            _checked(_KEY, key, f"{key!r} is not a key name (letters, digits and ._-)")
        return ",".join(names)

    @field_validator("consumers")
    @classmethod
    def _consumer_names(cls, consumers: str, info: ValidationInfo) -> str:
        names = _listed(consumers, "consumer", MAX_CONSUMERS, allow_none=True)
        rule = _ECS_NAME if info.data.get("consumer_kind") == "ecs" else _K8S_NAME
        for name in names:
            _checked(rule, name, f"{name!r} is not a {info.data.get('consumer_kind')} name")
        return ",".join(names)

    @field_validator("ecs_cluster")
    @classmethod
    def _ecs_needs_a_cluster(cls, cluster: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("consumer_kind") == "ecs" and info.data.get("consumers") and cluster is None:
            raise _missing("ECS consumers need their ecs_cluster")
        return cluster

    @property
    def key_names(self) -> list[str]:
        return self.keys.split(",")

    def restarted(self) -> Consumers:
        names = tuple(self.consumers.split(",")) if self.consumers else ()
        if self.consumer_kind == "ecs":
            return Consumers.ecs(names, cluster=self.ecs_cluster or "", aws_environment=self.aws_environment)
        return Consumers.deployments(names, namespace=self.namespace)


class SecretRotation(Workflow[RotationInputs]):
    name: ClassVar[str] = "secret_rotation"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = (
        "Rotate a secret in Vault or AWS Secrets Manager, restart its consumers and check they are "
        "healthy; high risk, and no value is ever shown."
    )
    examples: ClassVar[tuple[str, ...]] = (
        "rotate secret db/checkout",
        "rotate secret db/checkout and restart checkout,payments in shop",
        "rotate database role orders-app and restart orders in shop",
        "rotate aws secret shop/db-password",
    )
    inputs: ClassVar[type[RotationInputs]] = RotationInputs
    steps: ClassVar[tuple[StepDeclaration, ...]] = (
        StepDeclaration(
            "rotate", StepStage.ACT, ROTATE_ACTIONS, "Rotate the secret; the new value is never shown"
        ),
        StepDeclaration(
            "rotated", StepStage.ACT, ("aws.secret_rotation_wait",), "AWS: wait until the rotation finished"
        ),
        StepDeclaration(
            "restart",
            StepStage.ACT,
            ("kubernetes.rollout_restart", "aws.ecs_restart"),
            "Restart each consumer so it reads the new value",
        ),
        StepDeclaration(
            "ready",
            StepStage.VERIFY,
            ("kubernetes.rollout_status", "aws.ecs_wait"),
            "Wait until each consumer is healthy again",
        ),
        StepDeclaration("check", StepStage.VERIFY, ("prometheus.query_threshold",), "Hold the PromQL check"),
    )
    sentences: ClassVar[tuple[Sentence, ...]] = (
        sentence(rf"rotate (?:the )?secret {_PATH}{_RESTART}"),
        sentence(rf"rotate (?:the )?aws secret {_PATH}{_RESTART}", backend="aws"),
        sentence(
            rf"rotate (?:the )?(?:database|db) (?:static )?role {named('role')}{_RESTART}",
            backend="vault_database",
        ),
    )

    async def plan(self, inputs: RotationInputs, context: PlanningContext) -> WorkflowPlan:
        rotation = await _rotation(inputs, context)
        consumers = inputs.restarted()
        steps = [
            *rotation.steps,
            *consumers.restarts(risk=RiskLevel.HIGH, again_on_rollback=rotation.reversible),
            *consumers.readiness(),
        ]
        if inputs.check:
            label = consumers.listed or rotation.ref
            steps.append(check_step("check", inputs.check, label=f"{label} check"))
        restarted = f", restart {consumers.listed} ({consumers.scope})" if consumers.names else ""
        again = f", then restart {consumers.listed} again so they read it" if consumers.names else ""
        return WorkflowPlan(
            summary=f"rotate {rotation.what}{restarted}",
            target=Target(
                environment=inputs.environment,
                namespace=consumers.scope if consumers.names else "",
                kind=rotation.kind,
                name=rotation.ref,
            ),
            steps=steps,
            rollback=rotation.undo + (again if rotation.reversible else ""),
            targets=[rotation.target, *consumers.targets],
            level=RiskLevel.HIGH,
        )


async def _rotation(inputs: RotationInputs, context: PlanningContext) -> Rotation:
    # The validators made sure the reference each backend needs is there.
    if inputs.backend == "vault_kv":
        return await kv_rotation(
            context,
            mount=inputs.mount or "secret",
            path=inputs.path or "",
            keys=inputs.key_names,
            length=inputs.length,
            alphabet=inputs.alphabet,
        )
    if inputs.backend == "vault_database":
        return await database_rotation(context, mount=inputs.mount or "database", role=inputs.role or "")
    return await aws_rotation(context, secret=inputs.path or "", aws_environment=inputs.aws_environment)


def _listed(text: str, what: str, limit: int, *, allow_none: bool = False) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names and not allow_none:
        raise ValueError(f"give at least one {what}")
    if len(names) > limit:
        raise ValueError(f"at most {limit} {what}s")
    if len(set(names)) != len(names):
        raise ValueError(f"a {what} is named twice")
    return names


def _missing(message: str) -> PydanticCustomError:
    """Required for this backend: a `missing` error, which a form shows as "required" and an
    override file's defaults may leave to the person starting the workflow."""
    return PydanticCustomError("missing", message)


def _checked(rule: TypeAdapter[str], value: str, message: str) -> str:
    try:
        return rule.validate_python(value)
    except ValidationError:
        raise ValueError(message) from None
