"""Reading Deployments through the Kubernetes tool: a namespace's list and a describe-style summary."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.integration.tools.kubernetes.support import CHECKOUT, DEPLOYMENT_PATH, Kube, kube_cluster
from tools.common.base import ToolError

DEPLOYMENTS_PATH = "/apis/apps/v1/namespaces/shop/deployments"


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[Kube]:
    async with kube_cluster(tmp_path, page_size=2) as kube:
        kube.fake.add_deployment("shop", "cart", replicas=3, image="registry.example/cart:2.0")
        kube.fake.add_deployment("shop", "search", replicas=1, image="registry.example/search:7")
        yield kube


async def test_list_deployments_names_the_ones_not_rolled_out(kube: Kube) -> None:
    kube.fake.set_stuck("shop", "cart", available=1)

    result = await kube.run("kubernetes.list_deployments", {"namespace": "shop"})

    assert result.summary == "3 deployments in shop, not rolled out: cart 1/3"
    assert [(d["name"], d["ready_replicas"], d["images"]) for d in result.data["deployments"]] == [
        ("cart", 1, ["registry.example/cart:2.0"]),
        ("checkout", 2, ["registry.example/checkout:1.4"]),
        ("search", 1, ["registry.example/search:7"]),
    ]
    assert result.data["more"] is False
    pages = [r.query for r in kube.fake.requests if r.path == DEPLOYMENTS_PATH]
    assert [q["limit"] for q in pages] == ["2", "2"], "a list longer than a page follows the continue token"


async def test_list_deployments_by_label_and_limit(kube: Kube) -> None:
    by_label = await kube.run(
        "kubernetes.list_deployments", {"namespace": "shop", "label_selector": "app=cart"}
    )
    limited = await kube.run("kubernetes.list_deployments", {"namespace": "shop", "limit": 1})
    empty = await kube.run("kubernetes.list_deployments", {"namespace": "billing"})

    assert by_label.summary == "1 deployments in shop, all rolled out"
    assert (limited.summary, limited.data["more"]) == ("1+ deployments in shop, all rolled out", True)
    assert (empty.summary, empty.data) == ("no deployments in billing", {"deployments": [], "more": False})


async def test_a_denied_list_names_the_namespace(kube: Kube) -> None:
    kube.fake.deny("list", "deployments", namespace="shop")

    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.list_deployments", {"namespace": "shop"})

    assert raised.value.message.startswith("kubernetes denied list on deployments in namespace shop: ")
    assert (raised.value.status, raised.value.call) == (403, f"GET {DEPLOYMENTS_PATH}")


async def test_the_summary_has_revisions_conditions_and_newest_events(kube: Kube) -> None:
    image = {"containers": [{"name": "checkout", "image": "registry.example/checkout:1.5"}]}
    await kube.run(
        "kubernetes.patch_deployment", {**CHECKOUT, "patch": {"spec": {"template": {"spec": image}}}}
    )
    await kube.fake.settle()
    kube.fake.add_event("shop", "Deployment", "checkout", "Pinged", "hello", ago=timedelta(minutes=30))
    kube.fake.add_event("shop", "Pod", "checkout-x", "BackOff", "not about the deployment")

    result = await kube.run("kubernetes.get_deployment_summary", {**CHECKOUT, "events": 3})

    data = result.data
    new_set = data["revisions"][0]["replica_set"]
    assert result.summary == (
        "shop/checkout revision 2: 2 of 2 replicas available, image registry.example/checkout:1.5; "
        f"last event: Normal ScalingReplicaSet Deployment/checkout: Scaled up replica set {new_set} to 2"
    )
    assert (data["revision"], data["strategy"], data["paused"]) == (2, "RollingUpdate", False)
    assert [(r["revision"], r["replicas"], r["images"]) for r in data["revisions"]] == [
        (2, 2, ["registry.example/checkout:1.5"]),
        (1, 0, ["registry.example/checkout:1.4"]),
    ]
    assert [c["type"] for c in data["conditions"]] == ["Available", "Progressing"]
    assert len(data["events"]) == 3
    assert {e["object"] for e in data["events"]} == {"Deployment/checkout"}
    assert "hello" not in [e["message"] for e in data["events"]], "older events give way to newer ones"


async def test_the_summary_of_a_stalled_rollout_says_so(kube: Kube) -> None:
    kube.fake.set_stuck("shop", "checkout", available=1, deadline_exceeded=True)

    result = await kube.run("kubernetes.get_deployment_summary", CHECKOUT)

    assert result.summary.endswith(
        '; stalled: ReplicaSet "'
        + result.data["revisions"][0]["replica_set"]
        + '" has timed out progressing.'
    )
    assert result.data["available_replicas"] == 1


async def test_summary_errors_name_what_was_read(kube: Kube) -> None:
    kube.fake.deny("list", "events")

    with pytest.raises(ToolError) as not_found:
        await kube.run("kubernetes.get_deployment_summary", {"namespace": "shop", "name": "nope"})
    with pytest.raises(ToolError) as denied:
        await kube.run("kubernetes.get_deployment_summary", CHECKOUT)

    assert (not_found.value.message, not_found.value.status) == ("deployment shop/nope not found", 404)
    assert denied.value.message.startswith("kubernetes denied list on events in namespace shop: ")
    assert kube.fake.requests[-1].path == "/api/v1/namespaces/shop/events"
    assert DEPLOYMENT_PATH in [r.path for r in kube.fake.requests]
