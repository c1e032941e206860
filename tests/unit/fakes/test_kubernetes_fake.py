"""The fake Kubernetes API server's wire format, checked with a plain HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.kubernetes import FakeKubernetes

DEPLOYMENTS = "/apis/apps/v1/namespaces/shop/deployments"
CHECKOUT = f"{DEPLOYMENTS}/checkout"
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
async def fake() -> AsyncIterator[FakeKubernetes]:
    async with FakeKubernetes(convergence_delay=0.01) as server:
        server.add_deployment("shop", "checkout", replicas=2, image="registry.example/checkout:1.4")
        yield server


@pytest.fixture
async def http(fake: FakeKubernetes) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bearer {fake.token}"}
    async with aiohttp.ClientSession(fake.url, headers=headers) as session:
        yield session


async def call(http: aiohttp.ClientSession, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    async with http.request(method, path, **kwargs) as response:
        return response.status, await response.json()


async def test_unknown_deployment_is_the_real_not_found_status(
    http: aiohttp.ClientSession,
) -> None:
    for path in (f"{DEPLOYMENTS}/x", "/apis/apps/v1/namespaces/nowhere/deployments/x/scale"):
        assert await call(http, "GET", path) == (
            404,
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": 'deployments.apps "x" not found',
                "reason": "NotFound",
                "details": {"name": "x", "group": "apps", "kind": "deployments"},
                "code": 404,
            },
        )


async def test_requests_without_the_token_are_unauthorized(fake: FakeKubernetes) -> None:
    async with aiohttp.ClientSession(fake.url) as anonymous:
        status, body = await call(anonymous, "GET", CHECKOUT)

    assert status == 401
    assert (body["kind"], body["reason"], body["code"]) == ("Status", "Unauthorized", 401)
    assert fake.requests[-1].path == CHECKOUT


async def test_put_scale_with_a_stale_resource_version_is_a_conflict(
    http: aiohttp.ClientSession,
) -> None:
    _, scale = await call(http, "GET", f"{CHECKOUT}/scale")
    scale["spec"]["replicas"] = 4
    assert (await call(http, "PUT", f"{CHECKOUT}/scale", json=scale))[0] == 200

    scale["spec"]["replicas"] = 6
    status, body = await call(http, "PUT", f"{CHECKOUT}/scale", json=scale)

    assert status == 409
    assert body["reason"] == "Conflict"
    assert body["message"].startswith(
        'Operation cannot be fulfilled on deployments.apps "checkout": the object has been modified'
    )
    assert (await call(http, "GET", CHECKOUT))[1]["spec"]["replicas"] == 4


async def test_dry_run_answers_the_result_without_persisting_it(
    http: aiohttp.ClientSession, fake: FakeKubernetes
) -> None:
    before = fake.deployment("shop", "checkout")

    status, scale = await call(
        http,
        "PATCH",
        f"{CHECKOUT}/scale",
        params={"dryRun": "All"},
        json={"spec": {"replicas": 7}},
        headers=MERGE_PATCH,
    )

    assert (status, scale["kind"], scale["spec"]["replicas"]) == (200, "Scale", 7)
    assert fake.deployment("shop", "checkout") == before


async def test_writes_bump_resource_version_and_spec_changes_bump_generation(
    http: aiohttp.ClientSession, fake: FakeKubernetes
) -> None:
    before = fake.deployment("shop", "checkout")["metadata"]
    patch = [{"op": "replace", "path": "/spec/replicas", "value": 3}]

    _, after = await call(
        http, "PATCH", CHECKOUT, json=patch, headers={"Content-Type": "application/json-patch+json"}
    )

    assert int(after["metadata"]["resourceVersion"]) > int(before["resourceVersion"])
    assert after["metadata"]["generation"] == before["generation"] + 1
    assert after["status"]["observedGeneration"] == before["generation"]
    await fake.settle()
    status = fake.deployment("shop", "checkout")["status"]
    assert status["observedGeneration"] == after["metadata"]["generation"]
    assert (status["replicas"], status["availableReplicas"]) == (3, 3)
    assert {c["type"]: c["reason"] for c in status["conditions"]} == {
        "Available": "MinimumReplicasAvailable",
        "Progressing": "NewReplicaSetAvailable",
    }


async def test_strategic_merge_patch_merges_containers_by_name(
    http: aiohttp.ClientSession,
) -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "checkout", "image": "v2"}]}}}}

    status, body = await call(
        http,
        "PATCH",
        CHECKOUT,
        json=patch,
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )

    assert status == 200
    assert body["spec"]["template"]["spec"]["containers"] == [{"name": "checkout", "image": "v2"}]


async def test_stuck_deployments_report_partial_availability(
    http: aiohttp.ClientSession, fake: FakeKubernetes
) -> None:
    fake.set_stuck("shop", "checkout", available=1, deadline_exceeded=True)

    status = (await call(http, "GET", CHECKOUT))[1]["status"]

    assert (status["availableReplicas"], status["unavailableReplicas"]) == (1, 1)
    progressing = next(c for c in status["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "reason"),
    [
        (b"{not json", "application/merge-patch+json", 400, "BadRequest"),
        (b'{"spec": {"replicas": -1}}', "application/merge-patch+json", 422, "Invalid"),
        (b'{"spec": {"replicas": 1}}', "application/apply-patch+yaml", 415, "UnsupportedMediaType"),
    ],
)
async def test_bad_patches_are_rejected_with_a_status(
    http: aiohttp.ClientSession, body: bytes, content_type: str, status: int, reason: str
) -> None:
    answer = await call(http, "PATCH", f"{CHECKOUT}/scale", data=body, headers={"Content-Type": content_type})

    assert (answer[0], answer[1]["reason"], answer[1]["code"]) == (status, reason, status)


async def test_injected_faults_fire_the_requested_number_of_times(
    http: aiohttp.ClientSession, fake: FakeKubernetes
) -> None:
    fake.fail_next("GET", "/checkout", status=503, times=2)

    statuses = [(await call(http, "GET", CHECKOUT))[0] for _ in range(3)]

    assert statuses == [503, 503, 200]


async def test_lists_answer_with_their_list_kinds(http: aiohttp.ClientSession) -> None:
    _, deployments = await call(http, "GET", DEPLOYMENTS)
    _, pods = await call(http, "GET", "/api/v1/namespaces/shop/pods", params={"labelSelector": "a=b"})
    _, events = await call(http, "GET", "/api/v1/namespaces/shop/events")

    assert deployments["kind"] == "DeploymentList"
    assert [item["metadata"]["name"] for item in deployments["items"]] == ["checkout"]
    assert (pods["kind"], pods["items"]) == ("PodList", [])
    assert events["kind"] == "EventList"
    assert sorted(event["reason"] for event in events["items"]) == [
        "ScalingReplicaSet",
        "SuccessfulCreate",
        "SuccessfulCreate",
    ]
