"""What a strategic merge patch changes, and its inverse, checked against the fake API server's merge."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bot.playground.kubernetes.patch import STRATEGIC_MERGE_PATCH, apply_patch
from tools.kubernetes.strategic import Change, changes, inverse

DEPLOYMENT: dict[str, Any] = {
    "metadata": {
        "name": "checkout",
        "labels": {"app": "checkout"},
        "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T10:00:00Z"},
    },
    "spec": {
        "replicas": 2,
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "checkout",
                        "image": "checkout:1.4",
                        "args": ["--port=8080"],
                        "env": [{"name": "MODE", "value": "safe"}],
                        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                    },
                    {"name": "proxy", "image": "envoy:1.30"},
                ]
            }
        },
    },
}
CONTAINER = "spec.template.spec.containers"

PATCHES: list[tuple[dict[str, Any], list[Change]]] = [
    ({"spec": {"replicas": 4}}, [Change("spec.replicas", 2, 4)]),
    ({"spec": {"paused": True}}, [Change("spec.paused", None, True)]),
    (
        {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": None, "team": "payments"}}},
        [
            Change('metadata.annotations["kubectl.kubernetes.io/restartedAt"]', "2024-05-01T10:00:00Z", None),
            Change("metadata.annotations.team", None, "payments"),
        ],
    ),
    (
        {"spec": {"template": {"spec": {"containers": [{"name": "proxy", "image": "envoy:1.31"}]}}}},
        [Change(f"{CONTAINER}[name=proxy].image", "envoy:1.30", "envoy:1.31")],
    ),
    (
        {"spec": {"template": {"spec": {"containers": [{"name": "checkout", "args": ["--port=9090"]}]}}}},
        [Change(f"{CONTAINER}[name=checkout].args", ["--port=8080"], ["--port=9090"])],
    ),
    (
        {"spec": {"template": {"spec": {"containers": [{"name": "proxy", "$patch": "delete"}]}}}},
        [Change(f"{CONTAINER}[name=proxy]", {"name": "proxy", "image": "envoy:1.30"}, None)],
    ),
    (
        {"spec": {"template": {"spec": {"containers": [{"name": "debug", "image": "busybox"}]}}}},
        [Change(f"{CONTAINER}[name=debug]", None, {"name": "debug", "image": "busybox"})],
    ),
    (
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "checkout",
                                "env": [{"name": "MODE", "value": "fast"}, {"name": "DEBUG", "value": "1"}],
                                "ports": [{"containerPort": 8080, "protocol": "UDP"}],
                            }
                        ]
                    }
                }
            }
        },
        [
            Change(f"{CONTAINER}[name=checkout].env[name=MODE].value", "safe", "fast"),
            Change(f"{CONTAINER}[name=checkout].env[name=DEBUG]", None, {"name": "DEBUG", "value": "1"}),
            Change(f"{CONTAINER}[name=checkout].ports[containerPort=8080].protocol", "TCP", "UDP"),
        ],
    ),
    (
        {"spec": {"strategy": {"type": "Recreate"}, "template": {"spec": {"nodeSelector": {"pool": "b"}}}}},
        [
            Change("spec.strategy", None, {"type": "Recreate"}),
            Change("spec.template.spec.nodeSelector", None, {"pool": "b"}),
        ],
    ),
    ({"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "proxy"}]}}}}, []),
]


@pytest.mark.parametrize(("patch", "expected"), PATCHES)
def test_changes_name_each_field_the_patch_changed(patch: dict[str, Any], expected: list[Change]) -> None:
    after = apply_patch(DEPLOYMENT, patch, STRATEGIC_MERGE_PATCH)

    assert changes(patch, DEPLOYMENT, after) == expected


@pytest.mark.parametrize(("patch", "expected"), PATCHES)
def test_the_inverse_patch_restores_the_object(patch: dict[str, Any], expected: list[Change]) -> None:
    before = copy.deepcopy(DEPLOYMENT)
    after = apply_patch(before, patch, STRATEGIC_MERGE_PATCH)

    restored = apply_patch(after, inverse(patch, before), STRATEGIC_MERGE_PATCH)

    assert restored == DEPLOYMENT
    assert before == DEPLOYMENT, "neither function changes its input"


def test_the_inverse_names_only_the_patched_fields() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "checkout", "image": "checkout:1.5"}]}}}}

    assert inverse(patch, DEPLOYMENT) == {
        "spec": {"template": {"spec": {"containers": [{"name": "checkout", "image": "checkout:1.4"}]}}}
    }
