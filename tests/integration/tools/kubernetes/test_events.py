"""Events through the Kubernetes tool: newest first, for a namespace or one object."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.integration.tools.kubernetes.support import Kube, kube_cluster
from tools.common.base import ToolError

EVENTS_PATH = "/api/v1/namespaces/shop/events"


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[Kube]:
    async with kube_cluster(tmp_path) as kube:
        kube.fake.add_event(
            "shop", "Deployment", "cart", "ScalingReplicaSet", "Scaled up", ago=timedelta(minutes=9)
        )
        kube.fake.add_event(
            "shop",
            "Pod",
            "cart-1",
            "BackOff",
            "Back-off pulling image",
            event_type="Warning",
            count=7,
            ago=timedelta(minutes=1),
        )
        kube.fake.add_event("shop", "Pod", "cart-2", "Pulled", "Pulled image", ago=timedelta(minutes=5))
        kube.fake.add_event(
            "shop", "Deployment", "cart", "ScalingReplicaSet", "Scaled down", ago=timedelta(hours=2)
        )
        yield kube


async def test_events_of_one_object_come_newest_first(kube: Kube) -> None:
    result = await kube.run(
        "kubernetes.list_events", {"namespace": "shop", "kind": "Deployment", "name": "cart"}
    )

    assert [e["message"] for e in result.data["events"]] == ["Scaled up", "Scaled down"]
    assert result.summary == (
        "2 events for Deployment/cart in shop, newest: Normal ScalingReplicaSet Deployment/cart: Scaled up"
    )
    assert kube.fake.requests[-1].query == {
        "fieldSelector": "involvedObject.kind=Deployment,involvedObject.name=cart",
        "limit": "500",
    }


async def test_events_of_a_namespace_can_be_limited_to_warnings(kube: Kube) -> None:
    result = await kube.run("kubernetes.list_events", {"namespace": "shop", "type": "Warning"})

    assert result.summary == (
        "1 events for namespace shop, newest: Warning BackOff Pod/cart-1: Back-off pulling image (x7)"
    )
    event = result.data["events"][0]
    assert event | {"last_seen": ""} == {
        "type": "Warning",
        "reason": "BackOff",
        "message": "Back-off pulling image",
        "object": "Pod/cart-1",
        "count": 7,
        "last_seen": "",
        "source": "test",
    }
    assert event["last_seen"].endswith("+00:00")


async def test_the_newest_events_are_kept_when_there_are_more(kube: Kube) -> None:
    result = await kube.run("kubernetes.list_events", {"namespace": "shop", "kind": "Pod", "limit": 1})

    assert [e["object"] for e in result.data["events"]] == ["Pod/cart-1"]
    assert result.data["more"] is True
    assert result.summary.startswith("1+ events for Pod objects in shop, newest: Warning BackOff")


async def test_a_quiet_object_has_no_events(kube: Kube) -> None:
    result = await kube.run("kubernetes.list_events", {"namespace": "shop", "kind": "Pod", "name": "idle"})

    assert (result.summary, result.data) == ("no events for Pod/idle in shop", {"events": [], "more": False})


async def test_controller_events_follow_what_the_tool_did(kube: Kube) -> None:
    await kube.run("kubernetes.scale", {"namespace": "shop", "name": "checkout", "replicas": 3})
    await kube.fake.settle()

    result = await kube.run(
        "kubernetes.list_events", {"namespace": "shop", "kind": "Deployment", "name": "checkout", "limit": 1}
    )

    assert result.data["events"][0]["message"].endswith("to 3 from 2")
    assert result.data["events"][0]["source"] == "deployment-controller"


async def test_denied_event_lists_are_readable(kube: Kube) -> None:
    kube.fake.deny("list", "events")

    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.list_events", {"namespace": "shop"})

    assert raised.value.message.startswith(
        "kubernetes denied list on events in namespace shop: events is forbidden"
    )
    assert (raised.value.status, raised.value.call) == (403, f"GET {EVENTS_PATH}")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "cart"}, "name needs kind"),
        ({"kind": "deployment"}, "String should match pattern"),
        ({"type": "Error"}, "Input should be 'Normal' or 'Warning'"),
        ({"limit": 201}, "less than or equal to 200"),
    ],
)
def test_event_args_say_what_is_wrong(kube: Kube, raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        kube.action("kubernetes.list_events").parse_args({"namespace": "shop", **raw})
