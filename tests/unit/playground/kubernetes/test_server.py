"""The fake Kubernetes API server's wire format, checked with a plain HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.playground.kubernetes.server import FakeKubernetes

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


async def text(http: aiohttp.ClientSession, path: str, **kwargs: Any) -> tuple[int, str, str]:
    async with http.get(path, **kwargs) as response:
        return response.status, response.content_type, await response.text()


async def test_a_patch_with_a_stale_resource_version_is_a_conflict(
    http: aiohttp.ClientSession, fake: FakeKubernetes
) -> None:
    stale = fake.deployment("shop", "checkout")["metadata"]["resourceVersion"]
    await call(http, "PATCH", CHECKOUT, json={"spec": {"replicas": 3}}, headers=MERGE_PATCH)

    status, body = await call(
        http,
        "PATCH",
        CHECKOUT,
        json={"metadata": {"resourceVersion": stale}, "spec": {"replicas": 4}},
        headers=MERGE_PATCH,
    )

    assert (status, body["reason"]) == (409, "Conflict")
    assert fake.deployment("shop", "checkout")["spec"]["replicas"] == 3


async def test_replica_sets_carry_their_owner_and_revision(
    http: aiohttp.ClientSession, fake: FakeKubernetes
) -> None:
    deployment = fake.deployment("shop", "checkout")
    image = {"spec": {"template": {"spec": {"containers": [{"name": "checkout", "image": "v2"}]}}}}
    await call(
        http,
        "PATCH",
        CHECKOUT,
        json=image,
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    await fake.settle()

    _, sets = await call(
        http, "GET", "/apis/apps/v1/namespaces/shop/replicasets", params={"labelSelector": "app=checkout"}
    )

    assert sets["kind"] == "ReplicaSetList"
    by_revision = {
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: rs for rs in sets["items"]
    }
    assert sorted(by_revision) == ["1", "2"]
    assert (by_revision["1"]["spec"]["replicas"], by_revision["2"]["spec"]["replicas"]) == (0, 2)
    owner = by_revision["2"]["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"], owner["controller"]) == (
        "Deployment",
        deployment["metadata"]["uid"],
        True,
    )
    pod_hash = by_revision["2"]["metadata"]["labels"]["pod-template-hash"]
    assert by_revision["2"]["metadata"]["name"] == f"checkout-{pod_hash}"
    assert (
        fake.deployment("shop", "checkout")["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
        == "2"
    )
    assert {pod["metadata"]["labels"]["pod-template-hash"] for pod in fake.pods("shop")} == {pod_hash}


async def test_pods_and_their_logs(http: aiohttp.ClientSession, fake: FakeKubernetes) -> None:
    _, pods = await call(
        http, "GET", "/api/v1/namespaces/shop/pods", params={"fieldSelector": "status.phase=Running"}
    )
    name = pods["items"][0]["metadata"]["name"]
    fake.write_logs("shop", name, ['{"msg": "ready"}'])

    answer = await text(http, f"/api/v1/namespaces/shop/pods/{name}/log", params={"tailLines": "1"})

    assert [p["status"]["phase"] for p in pods["items"]] == ["Running", "Running"]
    assert answer == (200, "text/plain", '{"msg": "ready"}\n')
    assert (await call(http, "GET", "/api/v1/namespaces/shop/pods/nope"))[1] == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "nope" not found',
        "reason": "NotFound",
        "details": {"name": "nope", "kind": "pods"},
        "code": 404,
    }


async def test_a_dry_run_delete_answers_the_pod_and_keeps_it(
    http: aiohttp.ClientSession, fake: FakeKubernetes
) -> None:
    name = fake.pods("shop")[0]["metadata"]["name"]
    path = f"/api/v1/namespaces/shop/pods/{name}"

    status, pod = await call(http, "DELETE", path, params={"dryRun": "All"})

    assert (status, pod["metadata"]["name"], pod["metadata"]["deletionGracePeriodSeconds"]) == (200, name, 30)
    assert fake.pod("shop", name)["metadata"].get("deletionTimestamp") is None
    await call(http, "DELETE", path)
    await fake.settle()
    assert name not in [p["metadata"]["name"] for p in fake.pods("shop")]
    assert len(fake.pods("shop")) == 2, "the ReplicaSet replaced it"


async def test_denied_requests_answer_the_authorizers_status(
    http: aiohttp.ClientSession, fake: FakeKubernetes
) -> None:
    fake.deny("patch", "nodes")

    status, body = await call(
        http, "PATCH", "/api/v1/nodes/node-1", json={"spec": {"unschedulable": True}}, headers=MERGE_PATCH
    )

    assert (status, body["reason"], body["details"]) == (
        403,
        "Forbidden",
        {"name": "node-1", "kind": "nodes"},
    )
    assert body["message"] == (
        'nodes "node-1" is forbidden: User "system:serviceaccount:carapulse:carapulse" cannot patch resource '
        '"nodes" in API group "" at the cluster scope'
    )
    assert "unschedulable" not in fake.node("node-1")["spec"]


async def test_lists_are_chunked_with_continue_tokens(
    http: aiohttp.ClientSession, fake: FakeKubernetes
) -> None:
    for name in ("a", "b", "c"):
        fake.add_node(name)

    pages = [(await call(http, "GET", "/api/v1/nodes", params={"limit": "2"}))[1]]
    while token := pages[-1]["metadata"].get("continue"):
        pages.append((await call(http, "GET", "/api/v1/nodes", params={"limit": "2", "continue": token}))[1])
    bad = await call(http, "GET", "/api/v1/nodes", params={"limit": "2", "continue": "garbage!"})

    assert [[n["metadata"]["name"] for n in page["items"]] for page in pages] == [
        ["a", "b"],
        ["c", "node-1"],
        ["node-2"],
    ]
    assert [page["metadata"].get("remainingItemCount") for page in pages] == [3, 1, None]
    assert (bad[0], bad[1]["reason"]) == (400, "BadRequest")


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"fieldSelector": "involvedObject.kind=Deployment"}, 200, ""),
        ({"fieldSelector": "spec.color=red"}, 400, "field label not supported: spec.color"),
        ({"labelSelector": "app in (a"}, 400, "unable to parse requirement"),
    ],
)
async def test_event_selectors_are_checked(
    http: aiohttp.ClientSession, params: dict[str, str], status: int, message: str
) -> None:
    answer, body = await call(http, "GET", "/api/v1/namespaces/shop/events", params=params)

    assert answer == status
    if status == 200:
        assert {e["involvedObject"]["kind"] for e in body["items"]} == {"Deployment"}
    else:
        assert body["message"].startswith(message)


async def test_strategic_merge_patch_deletes_list_items_by_key(
    http: aiohttp.ClientSession, fake: FakeKubernetes
) -> None:
    headers = {"Content-Type": "application/strategic-merge-patch+json"}
    sidecar = {"spec": {"template": {"spec": {"containers": [{"name": "proxy", "image": "envoy"}]}}}}
    await call(http, "PATCH", CHECKOUT, json=sidecar, headers=headers)
    removal = {"spec": {"template": {"spec": {"containers": [{"name": "proxy", "$patch": "delete"}]}}}}

    status, body = await call(http, "PATCH", CHECKOUT, json=removal, headers=headers)

    assert status == 200
    assert [c["name"] for c in body["spec"]["template"]["spec"]["containers"]] == ["checkout"]


async def test_a_cordoned_node_is_tainted_and_a_dry_run_is_not(
    http: aiohttp.ClientSession, fake: FakeKubernetes
) -> None:
    cordon = {"spec": {"unschedulable": True}}
    headers = {"Content-Type": "application/strategic-merge-patch+json"}

    _, rehearsed = await call(
        http, "PATCH", "/api/v1/nodes/node-1", json=cordon, headers=headers, params={"dryRun": "All"}
    )
    assert rehearsed["spec"]["unschedulable"] is True
    assert "unschedulable" not in fake.node("node-1")["spec"]

    await call(http, "PATCH", "/api/v1/nodes/node-1", json=cordon, headers=headers)
    taints = fake.node("node-1")["spec"]["taints"]
    assert [(t["key"], t["effect"]) for t in taints] == [("node.kubernetes.io/unschedulable", "NoSchedule")]
    bad = await call(
        http, "PATCH", "/api/v1/nodes/node-1", json={"spec": {"unschedulable": "yes"}}, headers=headers
    )
    assert (bad[0], bad[1]["reason"]) == (400, "BadRequest")
