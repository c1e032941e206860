"""OIDC tokens of a CI provider, verified against the keys it publishes (a fake provider on
loopback signing with local keys): accepted, mapped to an identity, and every forgery or mistake
refused with its reason; keys cached, and fetched again for a new key id no more than the floor allows."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
import pytest

from bot.api.errors import ApiRefusal, Forbidden, Unauthorized
from bot.api.jwks import KeysUnavailable
from bot.api.oidc import OidcVerifier
from bot.api.oidc_config import OidcProvider
from tests.builders import TEAM
from tests.fakes.oidc_provider import AUDIENCE, FakeOidcProvider, SigningKey, tampered

HOUR = 3600


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Setup:
    provider: FakeOidcProvider
    verifier: OidcVerifier
    clock: Clock

    async def refusal(self, token: str) -> ApiRefusal:
        with pytest.raises(ApiRefusal) as refused:
            await self.verifier.actor(token, team_id=TEAM)
        return refused.value


def configured(provider: FakeOidcProvider, **changes: Any) -> OidcProvider:
    return OidcProvider.model_validate(
        {
            "name": "github",
            "issuer": provider.issuer,
            "audience": AUDIENCE,
            "jwks_url": provider.jwks_url,
            "identities": [
                {
                    "identity": "shop-deploy",
                    "roles": ["operator"],
                    "claims": {"repository": "acme/shop", "ref": "refs/heads/main", "environment": "prod"},
                },
                {"identity": "shop-release", "roles": ["viewer"], "claims": {"ref": "refs/tags/v*"}},
            ],
            **changes,
        }
    )


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    async with FakeOidcProvider() as provider:
        clock = Clock()
        verifier = OidcVerifier([configured(provider)], http=aiohttp.ClientSession(), clock=clock)
        yield Setup(provider, verifier, clock)
        await verifier.aclose()


async def test_a_valid_token_acts_as_the_identity_its_claims_map_to(setup: Setup) -> None:
    actor = await setup.verifier.actor(setup.provider.token(), team_id=TEAM)

    assert (actor.team_id, actor.user_id) == (TEAM, "oidc:shop-deploy")
    assert actor.pipeline is not None and actor.pipeline.roles == ("operator",)
    assert actor.pipeline.claims["repository"] == "acme/shop"
    assert actor.pipeline.claims["provider"] == "github"
    assert "exp" not in actor.pipeline.claims


async def test_identity_rules_match_shell_style_in_order_and_no_match_is_403(setup: Setup) -> None:
    release = setup.provider.claims(ref="refs/tags/v1.4.2", environment=None)
    stranger = setup.provider.claims(repository="evil/fork")

    released = await setup.verifier.actor(setup.provider.token(release), team_id=TEAM)
    refused = await setup.refusal(setup.provider.token(stranger))

    assert released.user_id == "oidc:shop-release"
    assert isinstance(refused, Forbidden) and refused.status == 403
    assert (
        refused.reason
        == "no identity configured for github matches this token (sub 'repo:acme/shop:environment:prod')"
    )


def _hs256_with_the_public_key(provider: FakeOidcProvider) -> str:
    """The classic confusion: an HMAC token keyed with the provider's public key."""
    public = provider.key.jwk()["n"].encode()
    return jwt.encode(provider.claims(), public, algorithm="HS256", headers={"kid": provider.key.kid})


REFUSED: list[tuple[str, Any, str]] = [
    (
        "expired",
        lambda p: p.token(p.claims(iat=int(time.time()) - HOUR, exp=int(time.time()) - 120)),
        "the token has expired",
    ),
    (
        "not yet valid",
        lambda p: p.token(p.claims(nbf=int(time.time()) + HOUR)),
        "the token is not valid yet (nbf or iat is in the future)",
    ),
    (
        "wrong audience",
        lambda p: p.token(p.claims(aud="https://elsewhere.example.com")),
        f"the token is for another audience; this Carapulse is {AUDIENCE!r}",
    ),
    (
        "wrong issuer",
        lambda p: p.token(p.claims(iss="https://token.actions.githubusercontent.com")),
        "tokens from issuer 'https://token.actions.githubusercontent.com' are not accepted here",
    ),
    (
        "issuer not a string",
        lambda p: tampered(p.token(), iss=["a", "b"]),
        "tokens from issuer ['a', 'b'] are not accepted here",
    ),
    ("unsigned", lambda p: p.unsigned(), "unsigned tokens (alg none) are refused"),
    (
        "tampered",
        lambda p: tampered(p.token(), repository="evil/fork"),
        "the token's signature does not verify",
    ),
    (
        "signed by a key the provider does not publish",
        lambda p: p.token(key=SigningKey(p.key.kid, FakeOidcProvider().key.private, "RS256")),
        "the token's signature does not verify",
    ),
    (
        "HS256 keyed with the public key",
        _hs256_with_the_public_key,
        "algorithm HS256 is not accepted from github (only RS256)",
    ),
    (
        "unknown key id",
        lambda p: p.token(kid="key-99"),
        "the token's signing key 'key-99' is not one github publishes",
    ),
    ("no key id", lambda p: p.token(kid=""), "the token names no signing key (kid)"),
    ("no subject", lambda p: p.token(p.claims(sub=None)), "the token has no sub claim"),
    ("not a JWT", lambda p: "a.b.c", "the token is not a readable JWT: Invalid header padding"),
]


@pytest.mark.parametrize(("case", "make", "reason"), REFUSED, ids=[case for case, _, _ in REFUSED])
async def test_forged_expired_and_misdirected_tokens_are_refused_with_the_reason(
    setup: Setup, case: str, make: Any, reason: str
) -> None:
    refused = await setup.refusal(make(setup.provider))

    assert isinstance(refused, Unauthorized) and refused.status == 401
    assert refused.reason == reason


async def test_clock_skew_is_forgiven_up_to_the_leeway_only(setup: Setup) -> None:
    now = int(time.time())
    just_expired = setup.provider.token(setup.provider.claims(iat=now - 600, exp=now - 30))
    long_expired = setup.provider.token(setup.provider.claims(iat=now - 600, exp=now - 90))

    assert (await setup.verifier.actor(just_expired, team_id=TEAM)).user_id == "oidc:shop-deploy"
    assert (await setup.refusal(long_expired)).reason == "the token has expired"


def test_the_leeway_is_bounded_and_only_asymmetric_algorithms_are_allowed() -> None:
    base = {
        "name": "github",
        "issuer": "https://token.actions.githubusercontent.com",
        "audience": AUDIENCE,
        "jwks_url": "https://token.actions.githubusercontent.com/.well-known/jwks",
        "identities": [{"identity": "x", "roles": ["operator"], "claims": {"repository": "acme/shop"}}],
    }
    for bad in (
        {"leeway_seconds": 301},
        {"algorithms": ["HS256"]},
        {"algorithms": ["none"]},
        {"jwks_url": "http://keys.example.com/jwks"},
        {"identities": [{"identity": "x", "roles": ["approver"], "claims": {"repository": "a"}}]},
        {"identities": [{"identity": "x", "roles": ["operator"], "claims": {}}]},
    ):
        with pytest.raises(ValueError):
            OidcProvider.model_validate({**base, **bad})


async def test_keys_are_cached_and_a_new_key_id_is_fetched_no_more_than_the_floor_allows(
    setup: Setup,
) -> None:
    provider, clock = setup.provider, setup.clock
    await setup.verifier.actor(provider.token(), team_id=TEAM)
    await setup.verifier.actor(provider.token(), team_id=TEAM)
    assert provider.fetches == 1

    provider.rotate()
    rotated = provider.token()
    # Ten seconds after the last fetch: within the floor, so a new key id is not looked up yet.
    clock.now += 10
    early = await setup.refusal(rotated)
    assert early.reason == "the token's signing key 'key-2' is not one github publishes"
    assert provider.fetches == 1

    clock.now += 60
    actor = await setup.verifier.actor(rotated, team_id=TEAM)
    probes = [await setup.refusal(provider.token(kid=f"made-up-{n}")) for n in range(5)]
    assert actor.user_id == "oidc:shop-deploy"
    assert all(isinstance(probe, Unauthorized) for probe in probes)
    assert provider.fetches == 2


async def test_keys_older_than_an_hour_are_fetched_again_and_withdrawn_ones_stop_counting(
    setup: Setup,
) -> None:
    provider, clock = setup.provider, setup.clock
    old_token = provider.token()
    await setup.verifier.actor(old_token, team_id=TEAM)
    provider.rotate(drop_old=True)

    clock.now += HOUR + 1
    refused = await setup.refusal(old_token)

    assert provider.fetches == 2
    assert refused.reason == "the token's signing key 'key-1' is not one github publishes"


async def test_an_ec_provider_is_verified_with_its_own_algorithm() -> None:
    async with FakeOidcProvider() as provider:
        provider.rotate(algorithm="ES256", drop_old=True)
        verifier = OidcVerifier([configured(provider, algorithms=["ES256"])], http=aiohttp.ClientSession())
        try:
            actor = await verifier.actor(provider.token(), team_id=TEAM)
            rsa_signed = provider.token(
                key=SigningKey(provider.key.kid, FakeOidcProvider().key.private, "RS256")
            )
            refused = await Setup(provider, verifier, Clock()).refusal(rsa_signed)
        finally:
            await verifier.aclose()

    assert actor.user_id == "oidc:shop-deploy"
    assert refused.reason == "algorithm RS256 is not accepted from github (only ES256)"


async def test_unreachable_keys_are_a_503_not_the_callers_fault() -> None:
    async with FakeOidcProvider() as provider:
        token = provider.token()
        settings = configured(provider, jwks_url=provider.issuer + "/nowhere")
        verifier = OidcVerifier([settings], http=aiohttp.ClientSession())
        try:
            refused = await Setup(provider, verifier, Clock()).refusal(token)
        finally:
            await verifier.aclose()

    assert isinstance(refused, KeysUnavailable) and refused.status == 503
    assert refused.reason.startswith("the signing keys of github cannot be fetched: ")
