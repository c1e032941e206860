"""Pods through the Kubernetes tool: list, logs and delete against the fake API server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.playground.kubernetes.server import FakeKubernetes
from tests.integration.tools.kubernetes.support import Kube, kube_cluster
from tools.common.base import Effect, RiskHint, ToolError
from tools.kubernetes.pods import LOG_BYTES_CAP

PODS_PATH = "/api/v1/namespaces/shop/pods"


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[Kube]:
    async with kube_cluster(tmp_path) as kube:
        yield kube


def checkout_pods(kube: Kube) -> list[str]:
    return [pod["metadata"]["name"] for pod in kube.fake.pods("shop", prefix="checkout-")]


async def test_list_pods_of_a_deployment_uses_its_selector(kube: Kube) -> None:
    kube.fake.add_pod("shop", "debug")

    result = await kube.run("kubernetes.list_pods", {"namespace": "shop", "deployment": "checkout"})

    assert result.summary == "2 pods in shop (app=checkout): 2 ready, 0 restarts"
    replica_set = kube.fake.replica_sets("shop")[0]["metadata"]["name"]
    assert [pod["name"] for pod in result.data["pods"]] == checkout_pods(kube)
    assert {(p["status"], p["ready"], p["owner"]) for p in result.data["pods"]} == {
        ("Running", "1/1", f"ReplicaSet {replica_set}")
    }
    assert {pod["node"] for pod in result.data["pods"]} == {"node-1", "node-2"}
    assert kube.fake.requests[-1].query == {"labelSelector": "app=checkout", "limit": "100"}


async def test_list_pods_names_the_pods_that_are_not_ready(kube: Kube) -> None:
    kube.fake.add_pod("shop", "worker")
    kube.fake.restart_container("shop", "worker")
    kube.fake.restart_container("shop", "worker", crash_loop=True)

    result = await kube.run(
        "kubernetes.list_pods", {"namespace": "shop", "label_selector": "run in (worker)"}
    )

    assert (
        result.summary
        == "1 pods in shop (run in (worker)): 0 ready, 2 restarts; not ready: worker CrashLoopBackOff"
    )
    assert result.data["pods"][0] | {"node": ""} == {
        "name": "worker",
        "status": "CrashLoopBackOff",
        "phase": "Running",
        "ready": "0/1",
        "restarts": 2,
        "node": "",
        "owner": "",
    }


async def test_list_pods_follows_continue_tokens_up_to_the_limit(tmp_path: Path) -> None:
    async with kube_cluster(tmp_path, page_size=2) as kube:
        for index in range(5):
            kube.fake.add_pod("shop", f"job-{index}")

        result = await kube.run("kubernetes.list_pods", {"namespace": "shop", "limit": 5})

    assert len(result.data["pods"]) == 5
    assert result.data["more"] is True
    assert result.summary.startswith("5+ pods in shop: ")
    lists = [r.query for r in kube.fake.requests if r.path == PODS_PATH]
    assert [q["limit"] for q in lists] == ["2", "2", "1"]
    assert "continue" not in lists[0] and lists[1]["continue"] and lists[2]["continue"]


async def test_list_pods_of_an_unknown_deployment_is_not_found(kube: Kube) -> None:
    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.list_pods", {"namespace": "shop", "deployment": "cart"})

    assert raised.value.message == "deployment shop/cart not found"


@pytest.mark.parametrize(
    ("raw", "denied", "message"),
    [
        (
            {"namespace": "shop"},
            ("list", "pods"),
            "kubernetes denied list on pods in namespace shop: pods is forbidden: User "
            '"system:serviceaccount:carapulse:carapulse" cannot list resource "pods" in API group "" '
            'in the namespace "shop"',
        ),
        (
            {"namespace": "shop", "label_selector": "app in (a"},
            None,
            "kubernetes rejected list on pods in namespace shop: unable to parse requirement",
        ),
    ],
)
async def test_list_pods_errors_are_readable(
    kube: Kube, raw: dict[str, Any], denied: tuple[str, str] | None, message: str
) -> None:
    if denied is not None:
        kube.fake.deny(*denied, namespace="shop")

    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.list_pods", raw)

    assert raised.value.message.startswith(message)
    assert raised.value.call == f"GET {PODS_PATH}"


def test_list_pods_takes_a_deployment_or_a_selector_not_both(kube: Kube) -> None:
    with pytest.raises(ValidationError, match="give deployment or label_selector, not both"):
        kube.action("kubernetes.list_pods").parse_args(
            {"namespace": "shop", "deployment": "checkout", "label_selector": "app=checkout"}
        )


async def test_logs_show_the_last_lines_verbatim(kube: Kube) -> None:
    pod = checkout_pods(kube)[0]
    kube.fake.write_logs("shop", pod, ['{"level":"info","msg":"ready"}', "GET /healthz 200", "GET /cart 500"])

    result = await kube.run("kubernetes.get_pod_logs", {"namespace": "shop", "name": pod, "tail_lines": 2})

    assert result.summary == f"2 log lines from pod shop/{pod}, last: GET /cart 500"
    assert result.data == {"lines": ["GET /healthz 200", "GET /cart 500"], "truncated": False}
    request = kube.fake.requests[-1]
    assert request.path == f"{PODS_PATH}/{pod}/log"
    assert request.query == {"tailLines": "2", "limitBytes": str(LOG_BYTES_CAP)}


async def test_logs_since_leave_out_older_lines(kube: Kube) -> None:
    pod = checkout_pods(kube)[0]
    kube.fake.write_logs("shop", pod, ["an hour ago"], at=datetime.now(UTC) - timedelta(hours=1))
    kube.fake.write_logs("shop", pod, ["just now"])

    result = await kube.run(
        "kubernetes.get_pod_logs", {"namespace": "shop", "name": pod, "since_seconds": 600}
    )

    assert result.data["lines"] == ["starting registry.example/checkout:1.4", "just now"]
    assert kube.fake.requests[-1].query["sinceSeconds"] == "600"


async def test_logs_of_the_previous_run_after_a_crash(kube: Kube) -> None:
    kube.fake.add_pod("shop", "worker", containers=2)
    kube.fake.write_logs("shop", "worker", ["panic: nil map"], container="worker-1")
    kube.fake.restart_container("shop", "worker", container="worker-1", crash_loop=True)
    raw = {"namespace": "shop", "name": "worker", "container": "worker-1", "previous": True}

    result = await kube.run("kubernetes.get_pod_logs", raw)

    assert (
        result.summary
        == "2 log lines from previous run of pod shop/worker container worker-1, last: panic: nil map"
    )
    assert kube.fake.requests[-1].query["previous"] == "true"


async def test_logs_are_capped_in_bytes(kube: Kube) -> None:
    pod = checkout_pods(kube)[0]
    kube.fake.write_logs("shop", pod, ["x" * 199] * 1000)

    result = await kube.run("kubernetes.get_pod_logs", {"namespace": "shop", "name": pod, "tail_lines": 1000})

    assert result.data["truncated"] is True
    assert len(result.data["lines"]) == LOG_BYTES_CAP // 200
    assert set(result.data["lines"]) == {"x" * 199}, "a line the cap cut short is left out"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"name": "worker"},
            "kubernetes rejected get on pod shop/worker: a container name must be specified for pod worker, "
            "choose one of: [worker worker-1]",
        ),
        ({"name": "worker", "container": "sidecar"}, "container sidecar is not valid for pod worker"),
        (
            {"name": "worker", "container": "worker", "previous": True},
            'previous terminated container "worker" in pod "worker" not found',
        ),
        ({"name": "gone"}, "pod shop/gone not found"),
    ],
)
async def test_log_errors_say_what_to_fix(kube: Kube, raw: dict[str, Any], message: str) -> None:
    kube.fake.add_pod("shop", "worker", containers=2)

    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.get_pod_logs", {"namespace": "shop", **raw})

    assert message in raised.value.message
    assert raised.value.call == f"GET {PODS_PATH}/{raw['name']}/log"


async def test_log_reads_can_be_denied_apart_from_pods(kube: Kube) -> None:
    kube.fake.deny("get", "pods/log")
    pod = checkout_pods(kube)[0]

    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.get_pod_logs", {"namespace": "shop", "name": pod})

    assert raised.value.status == 403
    assert 'cannot get resource "pods/log" in API group ""' in raised.value.message


@pytest.mark.parametrize(
    "raw",
    [{"tail_lines": 0}, {"tail_lines": 1001}, {"since_seconds": 0}, {"container": "Main"}, {"follow": True}],
)
def test_log_args_are_bounded(kube: Kube, raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        kube.action("kubernetes.get_pod_logs").parse_args({"namespace": "shop", "name": "worker", **raw})


async def test_delete_pod_lets_its_replica_set_replace_it(kube: Kube) -> None:
    action = kube.action("kubernetes.delete_pod")
    pod = checkout_pods(kube)[0]
    node = kube.fake.pod("shop", pod)["spec"]["nodeName"]
    replica_set = kube.fake.replica_sets("shop")[0]["metadata"]["name"]
    args = action.parse_args({"namespace": "shop", "name": pod, "grace_period_seconds": 0})

    result = await action.run(args)

    assert result.summary == f"deleted pod shop/{pod} on {node}; its ReplicaSet {replica_set} replaces it"
    assert result.data["owner"] == f"ReplicaSet {replica_set}"
    assert action.rollback(args, result) is None
    assert (action.effect, action.risk) == (Effect.WRITE, RiskHint.HIGH)
    delete = kube.fake.requests[-1]
    assert (delete.method, delete.query) == ("DELETE", {"gracePeriodSeconds": "0"})
    assert pod not in checkout_pods(kube)
    await kube.fake.settle()
    assert len(checkout_pods(kube)) == 2
    killing = [e for e in kube.fake.events("shop") if e["reason"] == "Killing"]
    assert killing[0]["involvedObject"]["name"] == pod


async def test_delete_pod_dry_run_keeps_the_pod(kube: Kube) -> None:
    pod = checkout_pods(kube)[0]

    result = await kube.dry_run("kubernetes.delete_pod", {"namespace": "shop", "name": pod})

    assert result.summary.startswith(f"dry run: deleted pod shop/{pod} on node-")
    assert kube.fake.requests[-1].query == {"dryRun": "All"}
    assert pod in checkout_pods(kube)


async def test_delete_pod_warns_when_nothing_replaces_it(kube: Kube) -> None:
    kube.fake.add_pod("shop", "debug")

    result = await kube.run("kubernetes.delete_pod", {"namespace": "shop", "name": "debug"})

    assert result.summary.endswith("; it has no controller, so nothing replaces it")
    await kube.fake.settle()
    assert kube.fake.pods("shop", prefix="debug") == []


async def test_deleting_an_unknown_pod_is_not_found(kube: Kube) -> None:
    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.delete_pod", {"namespace": "shop", "name": "gone"})

    assert (raised.value.message, raised.value.status) == ("pod shop/gone not found", 404)
    assert not [r for r in kube.fake.requests if r.method == "DELETE"]


@pytest.mark.parametrize(
    ("setup", "message", "status"),
    [
        (
            lambda fake: fake.deny("delete", "pods", namespace="shop"),
            'kubernetes denied delete on pod shop/debug: pods "debug" is forbidden',
            403,
        ),
        (
            lambda fake: fake.fail_next("DELETE", "/pods/debug", status=409),
            "pod shop/debug changed while Carapulse wrote it",
            409,
        ),
        (lambda fake: fake.fail_next("DELETE", "/pods/debug", status=503), "kubernetes failed delete", 503),
    ],
)
async def test_delete_pod_failures_are_readable_and_not_repeated(
    kube: Kube, setup: Callable[[FakeKubernetes], None], message: str, status: int
) -> None:
    kube.fake.add_pod("shop", "debug")
    setup(kube.fake)

    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.delete_pod", {"namespace": "shop", "name": "debug"})

    assert raised.value.message.startswith(message)
    assert raised.value.status == status
    assert len([r for r in kube.fake.requests if r.method == "DELETE"]) == 1
    assert kube.fake.pods("shop", prefix="debug")


async def test_deployment_logs_show_the_worst_pods_first(kube: Kube) -> None:
    healthy, crashing = checkout_pods(kube)
    kube.fake.write_logs("shop", healthy, ["GET /healthz 200"])
    kube.fake.write_logs("shop", crashing, ["panic: nil map"])
    kube.fake.restart_container("shop", crashing, crash_loop=True)
    kube.fake.add_pod("shop", "debug")

    result = await kube.run("kubernetes.get_deployment_logs", {"namespace": "shop", "name": "checkout"})

    assert list(result.data["logs"]) == [crashing, healthy]
    assert result.data["logs"][healthy][-1] == "GET /healthz 200"
    assert result.data["logs"][crashing][-1] == "panic: nil map"
    assert result.data["previous_run"] == [crashing]
    assert result.summary == (
        f"4 log lines from 2 pod(s) of shop/checkout; {crashing} (CrashLoopBackOff): panic: nil map"
    )
    assert result.data["selector"] == "app=checkout"


async def test_deployment_logs_read_at_most_max_pods_with_a_share_of_the_cap_each(kube: Kube) -> None:
    raw = {"namespace": "shop", "name": "checkout", "max_pods": 1, "tail_lines": 5}

    result = await kube.run("kubernetes.get_deployment_logs", raw)

    assert len(result.data["logs"]) == 1
    assert kube.fake.requests[-1].query == {"tailLines": "5", "limitBytes": str(LOG_BYTES_CAP)}


async def test_deployment_logs_of_a_missing_deployment_say_so(kube: Kube) -> None:
    with pytest.raises(ToolError, match=r"^deployment shop/nope not found$"):
        await kube.run("kubernetes.get_deployment_logs", {"namespace": "shop", "name": "nope"})
