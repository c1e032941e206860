"""`kubernetes.rollout_rollback` (`kubectl rollout undo`) against the fake's ReplicaSet history."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.tools.kubernetes.support import CHECKOUT, DEPLOYMENT_PATH, Kube, kube_cluster
from tools.common.base import ToolError

OLD_IMAGE = "registry.example/checkout:1.4"
NEW_IMAGE = "registry.example/checkout:1.5"


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[Kube]:
    """shop/checkout at revision 2 (NEW_IMAGE), revision 1 ran OLD_IMAGE."""
    async with kube_cluster(tmp_path) as kube:
        await set_image(kube, NEW_IMAGE)
        yield kube


async def set_image(kube: Kube, image: str) -> None:
    containers = [{"name": "checkout", "image": image}]
    await kube.run(
        "kubernetes.patch_deployment",
        {**CHECKOUT, "patch": {"spec": {"template": {"spec": {"containers": containers}}}}},
    )
    await kube.fake.settle()


def image_and_revision(kube: Kube) -> tuple[str, str]:
    deployment = kube.fake.deployment("shop", "checkout")
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    return image, deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"]


async def test_rollback_restores_the_previous_revisions_template(kube: Kube) -> None:
    old_set = next(
        rs
        for rs in kube.fake.replica_sets("shop")
        if rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    )

    result = await kube.run("kubernetes.rollout_rollback", CHECKOUT)

    assert (
        result.summary == f"rolled shop/checkout back from revision 2 to 1 (image {NEW_IMAGE} → {OLD_IMAGE})"
    )
    assert result.data | {"replica_set": ""} == {
        "namespace": "shop",
        "name": "checkout",
        "previous_revision": 2,
        "to_revision": 1,
        "replica_set": "",
        "previous_images": [NEW_IMAGE],
        "images": [OLD_IMAGE],
        "skipped": False,
    }
    assert result.data["replica_set"] == old_set["metadata"]["name"]
    patch = kube.fake.requests[-1]
    assert (patch.method, patch.path, patch.content_type) == (
        "PATCH",
        DEPLOYMENT_PATH,
        "application/json-patch+json",
    )
    assert [(op["op"], op["path"]) for op in patch.body] == [
        ("replace", "/metadata/resourceVersion"),
        ("replace", "/spec/template"),
        ("add", "/metadata/annotations"),
    ]
    assert "pod-template-hash" not in patch.body[1]["value"]["metadata"]["labels"]
    await kube.fake.settle()
    assert image_and_revision(kube) == (OLD_IMAGE, "3"), "the old ReplicaSet takes the next revision"
    pods = kube.fake.pods("shop")
    assert {pod["spec"]["containers"][0]["image"] for pod in pods} == {OLD_IMAGE}


async def test_the_rollback_of_a_rollback_returns_to_the_revision_read_before(kube: Kube) -> None:
    result = await kube.run("kubernetes.rollout_rollback", CHECKOUT)
    await kube.fake.settle()

    step = kube.rollback("kubernetes.rollout_rollback", CHECKOUT, result)
    assert step is not None and step.args == {**CHECKOUT, "to_revision": 2}
    undone = await kube.run(step.action, step.args)

    assert undone.summary.startswith("rolled shop/checkout back from revision 3 to 2")
    await kube.fake.settle()
    assert image_and_revision(kube) == (NEW_IMAGE, "4")


async def test_an_undo_right_after_a_rollback_reads_the_revision_that_runs(kube: Kube) -> None:
    """Before the controller renumbers the ReplicaSets, the running template still says where we are."""
    result, undone = await kube.undo("kubernetes.rollout_rollback", CHECKOUT)

    assert result.data["previous_revision"] == 2
    assert (undone.data["previous_revision"], undone.data["to_revision"]) == (1, 2)
    await kube.fake.settle()
    assert image_and_revision(kube)[0] == NEW_IMAGE


async def test_rollback_dry_run_changes_nothing(kube: Kube) -> None:
    before = kube.fake.deployment("shop", "checkout")

    result = await kube.dry_run("kubernetes.rollout_rollback", CHECKOUT)

    assert result.summary.startswith("dry run: rolled shop/checkout back from revision 2 to 1")
    assert kube.fake.requests[-1].query == {"dryRun": "All"}
    await kube.fake.settle()
    assert kube.fake.deployment("shop", "checkout") == before


async def test_rollback_to_a_named_revision(kube: Kube) -> None:
    await set_image(kube, "registry.example/checkout:1.6")

    result = await kube.run("kubernetes.rollout_rollback", {**CHECKOUT, "to_revision": 1})

    assert result.data["to_revision"] == 1
    await kube.fake.settle()
    assert image_and_revision(kube) == (OLD_IMAGE, "4")


async def test_rolling_back_to_the_running_template_is_skipped(kube: Kube) -> None:
    raw = {**CHECKOUT, "to_revision": 2}

    result = await kube.run("kubernetes.rollout_rollback", raw)

    assert result.summary == "skipped: shop/checkout already runs the template of revision 2"
    assert kube.rollback("kubernetes.rollout_rollback", raw, result) is None
    assert not [
        r
        for r in kube.fake.requests
        if r.method == "PATCH" and r.content_type.startswith("application/json-patch")
    ]


async def test_a_template_the_controller_has_not_seen_yet_is_not_rolled_back(kube: Kube) -> None:
    kube.fake.convergence_delay = 30  # the controller will not act on the next write during this test
    await kube.run("kubernetes.rollout_restart", CHECKOUT)

    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.rollout_rollback", CHECKOUT)

    assert raised.value.message == (
        "no ReplicaSet has the current pod template of shop/checkout yet; run the step again shortly"
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({**CHECKOUT, "to_revision": 7}, "deployment shop/checkout has no revision 7 (revisions: 2, 1)"),
        ({"namespace": "shop", "name": "cart"}, "deployment shop/cart not found"),
    ],
)
async def test_rollback_refuses_what_it_cannot_find(kube: Kube, raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ToolError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await kube.run("kubernetes.rollout_rollback", raw)


async def test_a_deployment_without_history_cannot_be_rolled_back(kube: Kube) -> None:
    kube.fake.add_deployment("shop", "cart")

    with pytest.raises(ToolError, match="deployment shop/cart has no previous revision to roll back to"):
        await kube.run("kubernetes.rollout_rollback", {"namespace": "shop", "name": "cart"})


async def test_a_paused_deployment_is_not_rolled_back(kube: Kube) -> None:
    await kube.run("kubernetes.patch_deployment", {**CHECKOUT, "patch": {"spec": {"paused": True}}})

    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.rollout_rollback", CHECKOUT)

    assert raised.value.message == "deployment shop/checkout is paused; resume it before rolling back"
    assert raised.value.call == f"PATCH {DEPLOYMENT_PATH}"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (
            lambda kube: kube.fake.deny("list", "replicasets", namespace="shop"),
            "kubernetes denied list on replicasets in namespace shop: replicasets.apps is forbidden",
        ),
        (
            lambda kube: kube.fake.fail_next("PATCH", "/deployments/checkout", status=409),
            "deployment shop/checkout changed while Carapulse wrote it",
        ),
        (
            lambda kube: kube.fake.fail_next("PATCH", "/deployments/checkout", status=503),
            "kubernetes failed patch on deployment shop/checkout: HTTP 503",
        ),
    ],
)
async def test_rollback_failures_are_readable(
    kube: Kube, setup: Callable[[Kube], None], message: str
) -> None:
    setup(kube)

    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.rollout_rollback", CHECKOUT)

    assert raised.value.message.startswith(message)
    assert image_and_revision(kube) == (NEW_IMAGE, "2")


@pytest.mark.parametrize("rehearse", [False, True], ids=["run", "dry_run"])
async def test_a_rollback_pinned_to_a_revision_that_moved_is_refused(kube: Kube, rehearse: bool) -> None:
    await set_image(kube, "registry.example/checkout:1.6")
    await kube.fake.settle()
    before = kube.fake.deployment("shop", "checkout")
    raw = {**CHECKOUT, "expected_revision": 2}

    with pytest.raises(ToolError) as refused:
        await (kube.dry_run if rehearse else kube.run)("kubernetes.rollout_rollback", raw)

    assert refused.value.message == (
        "deployment shop/checkout's revision changed since the plan was made (pinned 2, now 3); "
        "make a new plan"
    )
    assert kube.fake.deployment("shop", "checkout") == before


async def test_a_rollback_pinned_to_the_running_revision_goes_ahead(kube: Kube) -> None:
    result = await kube.run("kubernetes.rollout_rollback", {**CHECKOUT, "expected_revision": 2})

    assert (result.data["previous_revision"], result.data["to_revision"]) == (2, 1)
    undo = kube.rollback("kubernetes.rollout_rollback", {**CHECKOUT, "expected_revision": 2}, result)
    assert undo is not None and undo.args == {**CHECKOUT, "to_revision": 2}
