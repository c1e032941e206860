"""Every collector of the context graph against what it reads in production: the fake Kubernetes API
server and Argo CD API server, the helm stand-in, the real Prometheus (Debian's) and moto's AWS server,
all configured through the tools' own entry points as `carapulse serve` configures them. Then the
graph stored, read back and diffed on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import toolbox
from bot.context import views
from bot.context.collect import collect
from bot.context.collector import ContextCollector
from bot.context.graph import Edge, Graph, NodeKind, Relation, key
from bot.context.mapping import MappedService, Mapping
from bot.context.sources import SourceSettings
from bot.db.engine import SessionFactory
from bot.playground.kubernetes.server import FakeKubernetes
from bot.steps import run_action
from tests.builders import TEAM
from tests.fakes.argocd import FakeArgoCD
from tests.fakes.argocd_state import deployment
from tests.fakes.cli_standins import StandIn
from tests.fakes.helm_output import Chart, release_list
from tests.fakes.moto_server import MotoServer
from tests.fakes.prometheus_stack import RunningStack, eventually
from tools.common.registry import Registry

SETTINGS = SourceSettings(environment="prod")
HELM_LIST = ("list", "--all-namespaces", "--all", "--max=257", "--offset=0", "--output=json")
MAPPING = Mapping(
    services={
        "checkout": MappedService(owner="@payments-team", channel="C0123PAYMNT", depends_on=["payments"]),
        "frontend": MappedService(owner="@web-team", depends_on=["checkout"]),
        "mobile-api": MappedService(depends_on=["frontend"]),
    }
)


@dataclass
class Tools:
    registry: Registry
    kube: FakeKubernetes
    argocd: FakeArgoCD
    helm: StandIn
    moto: MotoServer


@pytest.fixture
async def tools(tmp_path: Path, stack: RunningStack, moto: MotoServer) -> AsyncIterator[Tools]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helm = StandIn(bin_dir, "helm")
    async with FakeKubernetes(convergence_delay=0.01) as kube, FakeArgoCD(operation_seconds=0.01) as argocd:
        release = {"meta.helm.sh/release-name": "payments", "meta.helm.sh/release-namespace": "billing"}
        kube.add_deployment("shop", "checkout", replicas=2)
        kube.add_deployment("billing", "payments", replicas=1, annotations=release)
        kube.add_service("shop", "checkout", selector={"app": "checkout"})
        kube.add_ingress("shop", "storefront", host="shop.example.com", service="checkout")
        argocd.add_app(
            "checkout-prod",
            destination="shop",
            manifests=[deployment("checkout", "shop", image="c:1")],
            revision="a" * 40,
        )
        ec2 = moto.client("ec2")
        [instance] = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"]
        tags = [{"Key": "service", "Value": "checkout"}, {"Key": "owner", "Value": "@payments-team"}]
        ec2.create_tags(Resources=[instance["InstanceId"]], Tags=tags)
        environ = {
            **moto.environ(),
            "KUBECONFIG": str(kube.write_kubeconfig(tmp_path / "kubeconfig")),
            "ARGOCD_SERVER": argocd.url,
            "ARGOCD_AUTH_TOKEN": argocd.token,
            "HELM_ENABLED": "1",
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "PROMETHEUS_URL": stack.prometheus_url,
        }
        built = toolbox.build(environ)
        try:
            yield Tools(built.registry, kube, argocd, helm, moto)
        finally:
            await built.aclose()


def expect_helm_list(helm: StandIn) -> None:
    helm.expect(
        *HELM_LIST, stdout=release_list([("payments", "billing", 3, "deployed", Chart("2.0.0", "2.0.0"))])
    )


async def test_each_source_reads_its_tool_and_builds_its_part(tools: Tools) -> None:
    expect_helm_list(tools.helm)
    firing = {"state": "firing"}
    await eventually(
        lambda: run_action(tools.registry, "prometheus.list_alerts", firing), lambda o: o.data["alerts"]
    )

    collected = await collect(tools.registry, SETTINGS)

    graph = Graph.merge(collected.fragments)
    assert [note.split(":")[0] for note in collected.notes] == [
        "kubernetes",
        "helm",
        "argocd",
        "prometheus",
        "aws",
    ]
    assert not [note for note in collected.notes if "left out" in note or "skipped" in note], collected.notes
    checkout, workload = key(NodeKind.SERVICE, "checkout"), key(NodeKind.WORKLOAD, "checkout", "shop")
    payments_workload = key(NodeKind.WORKLOAD, "payments", "billing")
    expected = {
        Edge(checkout, workload, Relation.RUNS_ON),
        Edge(key(NodeKind.K8S_SERVICE, "checkout", "shop"), workload, Relation.EXPOSES),
        Edge(
            key(NodeKind.INGRESS, "storefront", "shop"),
            key(NodeKind.K8S_SERVICE, "checkout", "shop"),
            Relation.EXPOSES,
        ),
        Edge(key(NodeKind.HELM_RELEASE, "payments", "billing"), payments_workload, Relation.DEPLOYS),
        Edge(key(NodeKind.ARGOCD_APP, "checkout-prod"), workload, Relation.DEPLOYS),
        Edge(key(NodeKind.ALERT, "ProbeAlwaysFiring/checkout"), checkout, Relation.ALERTS),
    }
    assert expected <= graph.edges
    assert any(
        e.source == checkout and e.relation == Relation.EXPOSES and "checkout/" in e.target
        for e in graph.edges
    )
    [aws] = [n for n in graph.nodes.values() if n.kind == NodeKind.AWS_RESOURCE]
    assert (aws.owner, aws.environment) == ("@payments-team", "prod")
    assert Edge(checkout, aws.key, Relation.RUNS_ON) in graph.edges
    tools.helm.assert_done()


async def test_a_source_whose_tool_fails_is_left_out_with_its_reason(tools: Tools) -> None:
    tools.helm.expect(*HELM_LIST, stderr="Error: Kubernetes cluster unreachable", exit_code=1)
    tools.argocd.deny("get", "checkout-prod")

    collected = await collect(tools.registry, SETTINGS)

    helm_note = next(note for note in collected.notes if note.startswith("helm"))
    assert helm_note.startswith("helm: left out, ") and "cluster unreachable" in helm_note
    assert "argocd: 0 nodes, 0 edges" in collected.notes


async def test_sources_whose_tool_is_not_configured_are_skipped(tools: Tools) -> None:
    collected = await collect(Registry(), SETTINGS)

    assert collected.fragments == []
    assert collected.notes == [
        f"{name}: skipped, the tool is not configured"
        for name in ("kubernetes", "helm", "argocd", "prometheus", "aws")
    ]


async def test_stored_snapshots_answer_context_diff_and_blast_radius(
    tools: Tools, sessions: SessionFactory
) -> None:
    collector = ContextCollector(
        sessions=sessions, registry=tools.registry, settings=SETTINGS, mapping=MAPPING
    )
    expect_helm_list(tools.helm)
    [first] = await collector.refresh(team_ids=[TEAM])
    assert first.changed

    async with sessions() as session:
        view = await views.describe(session, team_id=TEAM, name="checkout")
        assert (view.owner, view.channel, view.environment) == ("@payments-team", "C0123PAYMNT", "prod")
        assert view.depends_on == ["payments"]
        assert view.dependents == ["frontend", "mobile-api"]
        assert [r.label.split(" ")[0] for r in view.runs_on] == ["aws", "workload"]
        assert view.runs_on[1].label == "workload shop/checkout"
        assert {r.label for r in view.deployed_by} == {"argocd app checkout-prod"}
        assert {r.label for r in view.exposed_by} == {"k8s service shop/checkout", "ingress shop/storefront"}
        assert await views.dependents_of(session, team_id=TEAM, name="checkout") == ["frontend", "mobile-api"]
        assert await views.dependents_of(session, team_id=TEAM, name="payments") == [
            "checkout",
            "frontend",
            "mobile-api",
        ]
        assert await views.owner_channel(session, team_id=TEAM, service="checkout") == "C0123PAYMNT"
        assert await views.owner_channel(session, team_id=TEAM, service="frontend") is None

    expect_helm_list(tools.helm)
    [same] = await collector.refresh(team_ids=[TEAM])
    assert not same.changed and same.snapshot.id == first.snapshot.id

    # A plan scales checkout, and a new instance for it is tagged in AWS.
    scaled = await run_action(
        tools.registry, "kubernetes.scale", {"namespace": "shop", "name": "checkout", "replicas": 5}
    )
    assert scaled.ok, scaled.error
    ec2 = tools.moto.client("ec2")
    [added] = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"]
    ec2.create_tags(Resources=[added["InstanceId"]], Tags=[{"Key": "service", "Value": "checkout"}])
    expect_helm_list(tools.helm)
    [second] = await collector.refresh(team_ids=[TEAM])
    assert second.changed

    async with sessions() as session:
        changes = await views.diff(session, team_id=TEAM, name="checkout", since=None)
        since_first = await views.diff(session, team_id=TEAM, name="checkout", since=first.snapshot.taken_at)
    assert (changes.since, changes.until) == (first.snapshot.taken_at, second.snapshot.taken_at)
    assert changes.added == [f"service checkout runs on aws resource instance/{added['InstanceId']}"]
    assert changes.removed == []
    assert "workload shop/checkout: replicas 2 → 5" in changes.changed
    assert since_first == changes
