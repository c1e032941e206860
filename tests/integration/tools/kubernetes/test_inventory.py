"""The inventory reads the context graph is built from: workloads, Services and Ingresses, in one
namespace or all of them, through the official client against the fake API server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.tools.kubernetes.support import Kube, kube_cluster
from tools.common.base import ToolError


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[Kube]:
    async with kube_cluster(tmp_path, page_size=2) as kube:
        release = {"meta.helm.sh/release-name": "payments", "meta.helm.sh/release-namespace": "billing"}
        kube.fake.add_deployment(
            "billing", "payments", replicas=1, image="registry.example/pay:3", annotations=release
        )
        kube.fake.add_deployment("shop", "cart", replicas=3)
        kube.fake.add_service("shop", "checkout", selector={"app": "checkout"}, port=8080)
        kube.fake.add_service("billing", "payments", selector={"app": "payments"})
        kube.fake.add_ingress("shop", "storefront", host="shop.example.com", service="checkout", port=8080)
        yield kube


async def test_workloads_of_every_namespace_with_labels_and_helm_release(kube: Kube) -> None:
    result = await kube.run("kubernetes.list_workloads", {})

    assert result.summary == "3 deployments in all namespaces"
    workloads = {(w["namespace"], w["name"]): w for w in result.data["deployments"]}
    assert list(workloads) == [("billing", "payments"), ("shop", "cart"), ("shop", "checkout")]
    payments = workloads[("billing", "payments")]
    assert (payments["helm_release"], payments["helm_namespace"]) == ("payments", "billing")
    assert payments["pod_labels"] == {"app": "payments"} and payments["images"] == ["registry.example/pay:3"]
    assert workloads[("shop", "cart")]["helm_release"] == ""
    paths = {r.path for r in kube.fake.requests if r.method == "GET"}
    assert "/apis/apps/v1/deployments" in paths, "one list across namespaces, followed page by page"


async def test_services_and_ingresses_of_one_namespace(kube: Kube) -> None:
    services = await kube.run("kubernetes.list_services", {"namespace": "shop"})
    ingresses = await kube.run("kubernetes.list_ingresses", {"namespace": "shop"})

    assert services.summary == "1 service in shop"
    assert services.data["services"] == [
        {
            "namespace": "shop",
            "name": "checkout",
            "labels": {},
            "type": "ClusterIP",
            "selector": {"app": "checkout"},
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        }
    ]
    assert ingresses.summary == "1 ingress in shop"
    assert ingresses.data["ingresses"][0] | {"labels": None} == {
        "namespace": "shop",
        "name": "storefront",
        "labels": None,
        "class": "nginx",
        "hosts": ["shop.example.com"],
        "services": ["checkout"],
    }


async def test_a_limited_list_says_more_were_not_read(kube: Kube) -> None:
    result = await kube.run("kubernetes.list_services", {"limit": 1})

    assert (result.summary, result.data["more"]) == ("1 service in all namespaces (more not read)", True)


@pytest.mark.parametrize("raw", [{"namespace": "Shop"}, {"limit": 0}, {"cluster": "elsewhere"}, {"extra": 1}])
def test_bad_arguments_are_refused_before_anything_runs(kube: Kube, raw: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        kube.action("kubernetes.list_services").parse_args(raw)


async def test_a_denied_list_names_what_was_denied(kube: Kube) -> None:
    kube.fake.deny("list", "ingresses")

    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.list_ingresses", {})

    assert raised.value.status == 403
    assert raised.value.call == "GET /apis/networking.k8s.io/v1/ingresses"
