"""Static API tokens: issued once, kept only as a hash, found while active, revoked by name, and every
credential the authenticator refuses is refused with its reason."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from bot.api import tokens
from bot.api.auth import Authenticator
from bot.api.errors import Unauthorized
from bot.audit import AuditKind
from bot.db.engine import SessionFactory
from bot.db.models import ApiToken, AuditEvent
from bot.errors import Conflict, NotFound, UserError
from tests.builders import TEAM

OTHER_TEAM = "T9999OTHER1"


async def issue(
    sessions: SessionFactory, name: str = "deploy", roles: tuple[str, ...] = ("operator",)
) -> str:
    async with sessions.begin() as session:
        issued = await tokens.create(session, team_id=TEAM, name=name, roles=roles, created_by="cli:test")
    return issued.token


async def test_a_token_is_shown_once_and_only_its_hash_is_stored(sessions: SessionFactory) -> None:
    token = await issue(sessions)

    async with sessions() as session:
        row = await session.scalar(select(ApiToken))
        events = (await session.scalars(select(AuditEvent))).all()
    assert token.startswith("cpt_") and len(token) > 40
    assert row is not None and row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr([getattr(row, column) for column in ApiToken.__table__.columns.keys()])
    assert [(e.kind, e.detail) for e in events] == [
        (AuditKind.API_TOKEN_CREATED, {"name": "deploy", "roles": ["operator"]})
    ]


async def test_the_token_authenticates_as_a_pipeline_of_the_workspace_with_its_roles(
    sessions: SessionFactory,
) -> None:
    token = await issue(sessions, roles=("viewer", "operator"))

    actor = await Authenticator(sessions=sessions, team_id=TEAM).caller(f"Bearer {token}")

    assert (actor.team_id, actor.user_id) == (TEAM, "token:deploy")
    assert actor.pipeline is not None and actor.pipeline.roles == ("operator", "viewer")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "no credentials: send `Authorization: Bearer <token>`"),
        ("", "no credentials: send `Authorization: Bearer <token>`"),
        ("Basic dXNlcjpwYXNz", "the Authorization header must be `Bearer <token>`"),
        ("Bearer ", "the Authorization header must be `Bearer <token>`"),
        ("Bearer cpt_" + "x" * 43, "the API token is unknown or revoked"),
        ("Bearer hello", "the bearer token is neither a Carapulse API token (cpt_…) nor a JWT"),
        ("Bearer a.b.c", "OIDC tokens are not accepted here: no provider is configured (API_OIDC_PROVIDERS)"),
        ("Bearer cpt_" + "x" * 20_000, "the bearer token is longer than 16384 characters"),
    ],
)
async def test_credentials_that_prove_nothing_are_refused_with_the_reason(
    sessions: SessionFactory, header: str | None, reason: str
) -> None:
    with pytest.raises(Unauthorized) as refused:
        await Authenticator(sessions=sessions, team_id=TEAM).caller(header)

    assert refused.value.reason == reason
    assert refused.value.status == 401


async def test_a_revoked_token_and_another_workspaces_token_are_refused(sessions: SessionFactory) -> None:
    token = await issue(sessions)
    authenticator = Authenticator(sessions=sessions, team_id=TEAM)
    elsewhere = Authenticator(sessions=sessions, team_id=OTHER_TEAM)

    with pytest.raises(Unauthorized):
        await elsewhere.caller(f"Bearer {token}")
    async with sessions.begin() as session:
        await tokens.revoke(session, team_id=TEAM, name="deploy", revoked_by="cli:test")
    with pytest.raises(Unauthorized, match="unknown or revoked"):
        await authenticator.caller(f"Bearer {token}")
    async with sessions.begin() as session:
        with pytest.raises(Conflict, match="already revoked"):
            await tokens.revoke(session, team_id=TEAM, name="deploy", revoked_by="cli:test")


@pytest.mark.parametrize(
    ("name", "roles", "error", "message"),
    [
        ("Deploy", ["operator"], UserError, "is not a token name"),
        ("a" * 27, ["operator"], UserError, "is not a token name"),
        ("deploy bot", ["operator"], UserError, "is not a token name"),
        ("deploy", [], UserError, "give at least one"),
        ("deploy", ["approver"], UserError, "approver is not one. Approving stays with people in Slack"),
        ("deploy", ["admin", "operator"], UserError, "admin is not one"),
    ],
)
async def test_bad_names_and_roles_are_refused_and_nothing_is_stored(
    sessions: SessionFactory, name: str, roles: list[str], error: type[Exception], message: str
) -> None:
    async with sessions.begin() as session:
        with pytest.raises(error, match=message):
            await tokens.create(session, team_id=TEAM, name=name, roles=roles, created_by="cli:test")

    async with sessions() as session:
        assert await session.scalar(select(ApiToken)) is None
        assert await session.scalar(select(AuditEvent)) is None


async def test_names_are_unique_per_workspace_and_unknown_names_cannot_be_revoked(
    sessions: SessionFactory,
) -> None:
    await issue(sessions)

    async with sessions.begin() as session:
        with pytest.raises(Conflict, match="already exists"):
            await tokens.create(session, team_id=TEAM, name="deploy", roles=["viewer"], created_by="cli:test")
        await tokens.create(
            session, team_id=OTHER_TEAM, name="deploy", roles=["viewer"], created_by="cli:test"
        )
        with pytest.raises(NotFound):
            await tokens.revoke(session, team_id=TEAM, name="nobody", revoked_by="cli:test")


async def test_tokens_are_listed_page_by_page(sessions: SessionFactory) -> None:
    for name in ("c", "a", "b"):
        await issue(sessions, name)

    async with sessions() as session:
        first = await tokens.page(session, team_id=TEAM, limit=2)
        second = await tokens.page(session, team_id=TEAM, after=first[-1].name, limit=2)

    assert [row.name for row in first] == ["a", "b"]
    assert [row.name for row in second] == ["c"]
