"""A pipeline calling with its CI provider's OIDC token, through the running bot: planned as the
identity its claims map to, refused with 401 or 403 and the reason otherwise, audited with its claims."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.oidc_provider import AUDIENCE, FakeOidcProvider
from tests.integration.api.conftest import ApiBot, started_api
from tests.integration.api.test_plan_routes import SCALE, api_calls


@pytest.fixture
async def provider() -> AsyncIterator[FakeOidcProvider]:
    async with FakeOidcProvider() as running:
        yield running


@pytest.fixture
async def api(database_url: str, tmp_path: Path, provider: FakeOidcProvider) -> AsyncIterator[ApiBot]:
    providers = [
        {
            "name": "github",
            "issuer": provider.issuer,
            "audience": AUDIENCE,
            "jwks_url": provider.jwks_url,
            "identities": [
                {
                    "identity": "shop-deploy",
                    "roles": ["operator"],
                    "claims": {"repository": "acme/shop", "ref": "refs/heads/main"},
                },
                {"identity": "shop-preview", "roles": ["viewer"], "claims": {"repository": "acme/shop"}},
            ],
        }
    ]
    async with started_api(database_url, tmp_path, API_OIDC_PROVIDERS=json.dumps(providers)) as client:
        yield client


async def test_a_ci_job_plans_as_its_identity_and_the_call_is_audited_with_its_claims(
    api: ApiBot, provider: FakeOidcProvider
) -> None:
    created = await api.call("POST", "/api/v1/plans", json=SCALE, token=provider.token())

    assert created.status == 201, created.body
    read = await api.call("GET", f"/api/v1/plans/{created.body['id']}", token=provider.token())
    assert read.body["requester_id"] == "oidc:shop-deploy"
    actor, plan_id, detail = (await api_calls(api))[0]
    assert (actor, plan_id, detail["status"]) == ("oidc:shop-deploy", created.body["id"], 201)
    assert detail["claims"]["repository"] == "acme/shop"
    assert detail["claims"]["ref"] == "refs/heads/main"
    assert detail["claims"]["provider"] == "github"


async def test_a_branch_build_maps_to_a_viewer_and_the_policy_refuses_its_write(
    api: ApiBot, provider: FakeOidcProvider
) -> None:
    branch = provider.token(provider.claims(ref="refs/heads/feature"))

    refused = await api.call("POST", "/api/v1/plans", json=SCALE, token=branch)
    listed = await api.call("GET", "/api/v1/plans", token=branch)

    assert refused.status == 403
    assert refused.body["message"] == "Denied: planning a write needs the operator or admin role"
    assert listed.status == 200


@pytest.mark.parametrize(
    ("claims", "status", "message"),
    [
        ({"repository": "evil/fork"}, 403, "no identity configured for github matches this token"),
        ({"exp": int(time.time()) - 600, "iat": int(time.time()) - 1200}, 401, "the token has expired"),
        ({"aud": "sts.amazonaws.com"}, 401, "the token is for another audience"),
    ],
)
async def test_tokens_that_may_not_call_are_refused_with_the_reason(
    api: ApiBot, provider: FakeOidcProvider, claims: dict[str, object], status: int, message: str
) -> None:
    answer = await api.call(
        "POST", "/api/v1/plans", json=SCALE, token=provider.token(provider.claims(**claims))
    )

    assert answer.status == status
    assert message in answer.body["message"]
    assert (await api_calls(api))[0][2]["status"] == status
