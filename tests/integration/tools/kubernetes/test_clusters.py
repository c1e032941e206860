"""The Kubernetes toolset's entry point and settings, and acting on several clusters by context name."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import ValidationError

from bot.playground.kubernetes.server import FakeKubernetes, write_kubeconfig
from tests.integration.tools.kubernetes.support import CHECKOUT, fake_clusters
from tools.common.base import ToolError
from tools.common.registry import Registry, installed_toolsets
from tools.common.toolset import NotConfigured
from tools.kubernetes import KubernetesConfig, actions, toolset
from tools.kubernetes.client import KubernetesClient

ACTION_NAMES = [
    "kubernetes.get_deployment",
    "kubernetes.scale",
    "kubernetes.rollout_restart",
    "kubernetes.rollout_status",
    "kubernetes.list_deployments",
    "kubernetes.get_deployment_summary",
    "kubernetes.rollout_rollback",
    "kubernetes.patch_deployment",
    "kubernetes.list_pods",
    "kubernetes.get_pod_logs",
    "kubernetes.get_deployment_logs",
    "kubernetes.delete_pod",
    "kubernetes.list_events",
    "kubernetes.node_cordon",
    "kubernetes.node_uncordon",
    "kubernetes.list_workloads",
    "kubernetes.list_services",
    "kubernetes.list_ingresses",
]


@dataclass
class TwoClusters:
    eu: FakeKubernetes
    us: FakeKubernetes
    kubeconfig: Path


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[TwoClusters]:
    """Two API servers, contexts "eu" (current) and "us", each with its own shop/checkout."""
    async with FakeKubernetes() as eu, FakeKubernetes() as us:
        eu.add_deployment("shop", "checkout", replicas=2)
        us.add_deployment("shop", "checkout", replicas=6)
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {"eu": eu, "us": us}, current="eu")
        yield TwoClusters(eu, us, kubeconfig)


class RecordingClient(KubernetesClient):
    made: ClassVar[list[RecordingClient]] = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.closed = False
        RecordingClient.made.append(self)

    def close(self) -> None:
        self.closed = True
        super().close()


async def test_the_toolset_is_the_entry_point_with_every_action(two: TwoClusters) -> None:
    assert installed_toolsets()["kubernetes"] is toolset
    built = toolset({"KUBECONFIG": str(two.kubeconfig)})
    try:
        assert built.status == f"enabled, kubeconfig {two.kubeconfig}, clusters eu (default)"
        assert [action.name for action in Registry(built.actions)] == ACTION_NAMES
        clusters = built.actions[0].clusters  # type: ignore[attr-defined]
        assert all(action.clusters is clusters for action in built.actions)  # type: ignore[attr-defined]
        client = await clusters.client(None)
        assert client.server == two.eu.url
        assert await client.server_version() == "v1.31.0"
    finally:
        await built.aclose()


async def test_the_cluster_arg_picks_the_context_and_the_rollback_keeps_it(two: TwoClusters) -> None:
    built = toolset({"KUBECONFIG": str(two.kubeconfig), "KUBE_CONTEXTS": "eu, us"})
    try:
        assert built.status == f"enabled, kubeconfig {two.kubeconfig}, clusters eu (default), us"
        scale = Registry(built.actions).get("kubernetes.scale")
        args = scale.parse_args({**CHECKOUT, "replicas": 8, "cluster": "us"})

        result = await scale.run(args)

        assert result.summary == "checkout replicas 6 → 8"
        assert two.us.deployment("shop", "checkout")["spec"]["replicas"] == 8
        assert two.eu.deployment("shop", "checkout")["spec"]["replicas"] == 2
        step = scale.rollback(args, result)
        assert step is not None and step.args == {**CHECKOUT, "replicas": 6, "cluster": "us"}
        await scale.run(scale.parse_args({**CHECKOUT, "replicas": 3}))
        assert two.eu.deployment("shop", "checkout")["spec"]["replicas"] == 3
    finally:
        await built.aclose()


async def test_an_unknown_cluster_is_refused_naming_the_allowed_ones(two: TwoClusters) -> None:
    built = toolset({"KUBECONFIG": str(two.kubeconfig), "KUBE_CONTEXTS": "eu,us"})
    get = Registry(built.actions).get("kubernetes.get_deployment")

    with pytest.raises(ValidationError, match="unknown cluster 'ap'; allowed: eu, us"):
        get.parse_args({**CHECKOUT, "cluster": "ap"})
    with pytest.raises(ToolError, match="unknown cluster 'ap'; allowed: eu, us"):
        await get.run(get.args_model.model_validate({**CHECKOUT, "cluster": "ap"}))
    await built.aclose()


async def test_clients_are_made_on_first_use_once_and_closed_with_the_toolset(two: TwoClusters) -> None:
    RecordingClient.made.clear()
    clusters = fake_clusters(two.kubeconfig, "eu", "us", connect=RecordingClient.from_config)
    get = Registry(actions(clusters)).get("kubernetes.get_deployment")
    assert RecordingClient.made == []

    await get.run(get.parse_args(CHECKOUT))
    await get.run(get.parse_args(CHECKOUT))
    assert len(RecordingClient.made) == 1
    await get.run(get.parse_args({**CHECKOUT, "cluster": "us"}))
    assert [client.server for client in RecordingClient.made] == [two.eu.url, two.us.url]

    clusters.close()
    assert all(client.closed for client in RecordingClient.made)


async def test_a_context_that_cannot_be_loaded_fails_only_its_own_steps(two: TwoClusters) -> None:
    config = json.loads(two.kubeconfig.read_text())
    config["clusters"][1]["cluster"] = {
        "server": "https://127.0.0.1:1",
        "certificate-authority": "/nonexistent/ca.pem",
    }
    two.kubeconfig.write_text(json.dumps(config))
    clusters = fake_clusters(two.kubeconfig, "eu", "us")
    get = Registry(actions(clusters)).get("kubernetes.get_deployment")

    with pytest.raises(ToolError) as raised:
        await get.run(get.parse_args({**CHECKOUT, "cluster": "us"}))
    result = await get.run(get.parse_args(CHECKOUT))

    assert raised.value.message == (
        f"kubernetes: cannot load kubeconfig {two.kubeconfig} (context us): "
        "File does not exist: /nonexistent/ca.pem"
    )
    assert result.summary.startswith("shop/checkout: 2 of 2 replicas available")
    clusters.close()


async def test_in_cluster_without_a_service_account_fails_when_first_used() -> None:
    built = toolset({"KUBE_IN_CLUSTER": "true"})
    assert built.status == "enabled, in-cluster, clusters in-cluster (default)"
    get = Registry(built.actions).get("kubernetes.get_deployment")

    with pytest.raises(ToolError) as raised:
        await get.run(get.parse_args(CHECKOUT))

    assert raised.value.message.startswith("kubernetes: cannot load in-cluster service account: ")
    assert raised.value.call == "load config"
    await built.aclose()


def test_the_toolset_is_left_out_without_a_kubeconfig(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))

    with pytest.raises(NotConfigured, match="set KUBECONFIG"):
        toolset({})


async def test_without_kubeconfig_the_default_one_is_used(
    two: TwoClusters, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = two.kubeconfig.parent
    (home / ".kube").mkdir()
    (home / ".kube" / "config").write_text(two.kubeconfig.read_text())
    monkeypatch.setenv("HOME", str(home))

    built = toolset({})

    assert built.status == f"enabled, kubeconfig {home / '.kube' / 'config'}, clusters eu (default)"
    get = Registry(built.actions).get("kubernetes.get_deployment")
    assert (await get.run(get.parse_args(CHECKOUT))).data["replicas"] == 2
    await built.aclose()


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"KUBECONFIG": "{tmp}/nope"}, "kubernetes: KUBECONFIG: file {tmp}/nope does not exist"),
        (
            {"KUBECONFIG": "{tmp}/not-yaml"},
            "kubernetes: KUBECONFIG: cannot read {tmp}/not-yaml: "
            "expected ',' or ']', but got '<stream end>' (line 1",
        ),
        (
            {"KUBECONFIG": "{kc}", "KUBE_CONTEXT": "ap"},
            "kubernetes: KUBE_CONTEXT: context 'ap' is not in kubeconfig {kc} (eu, us)",
        ),
        (
            {"KUBECONFIG": "{kc}", "KUBE_CONTEXTS": "eu,ap"},
            "kubernetes: KUBE_CONTEXTS: context 'ap' is not in kubeconfig",
        ),
        (
            {"KUBECONFIG": "{kc}", "KUBE_CONTEXTS": "us"},
            "kubernetes: KUBE_CONTEXTS: does not include the default context 'eu'; "
            "add it or set KUBE_CONTEXT to one",
        ),
        (
            {"KUBECONFIG": "{kc}", "KUBE_CONTEXTS": " , "},
            "kubernetes: KUBE_CONTEXTS: Value error, lists no context names",
        ),
        ({"KUBE_IN_CLUSTER": "maybe"}, "kubernetes: KUBE_IN_CLUSTER: Input should be a valid boolean"),
        (
            {"KUBE_IN_CLUSTER": "1", "KUBE_CONTEXTS": "eu"},
            "kubernetes: KUBE_CONTEXTS: names kubeconfig contexts, but the tool",
        ),
    ],
)
def test_wrong_settings_stop_start_up_with_one_line_naming_the_variable(
    two: TwoClusters, tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    (tmp_path / "not-yaml").write_text("clusters: [unclosed")
    values = {"{tmp}": str(tmp_path), "{kc}": str(two.kubeconfig)}
    for placeholder, value in values.items():
        environ = {key: text.replace(placeholder, value) for key, text in environ.items()}
        message = message.replace(placeholder, value)

    with pytest.raises(ToolError) as raised:
        toolset(environ)

    assert raised.value.message.startswith(message)
    assert "\n" not in raised.value.message.strip()


def test_a_kubeconfig_without_a_current_context_needs_kube_context(two: TwoClusters) -> None:
    two.kubeconfig.write_text(
        two.kubeconfig.read_text().replace('"current-context": "eu"', '"current-context": ""')
    )

    with pytest.raises(ToolError, match=r"KUBE_CONTEXT: kubeconfig .* has no current-context; name one"):
        toolset({"KUBECONFIG": str(two.kubeconfig)})
    built = toolset({"KUBECONFIG": str(two.kubeconfig), "KUBE_CONTEXT": "us"})
    assert built.status.endswith("clusters us (default)")


def test_a_missing_kubeconfig_fails_with_one_line_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"

    with pytest.raises(ToolError) as raised:
        KubernetesClient.from_config(KubernetesConfig(kubeconfig=missing))

    assert raised.value.message.startswith(f"kubernetes: cannot load kubeconfig {missing}")
    assert "\n" not in raised.value.message


def test_in_cluster_config_excludes_a_kubeconfig(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="in_cluster cannot be combined"):
        KubernetesConfig(in_cluster=True, kubeconfig=tmp_path / "kubeconfig")
