"""The Helm chart, rendered as `helm template` renders it (Helm's own Go SDK through helm-python-sdk)
and each manifest checked against the Kubernetes API's schema (kubernetes-validate, strict: unknown
fields fail). The ServiceMonitor is a prometheus-operator CRD with no schema here; it is checked
against the Service it scrapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dockerfile
import helm_python
import kubernetes_validate
import pytest
import yaml

from bot.cli import _parser

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "deploy" / "helm" / "carapulse"
KUBERNETES_VERSION = "1.30.0"
SECRET = "carapulse-credentials"


def _render(**values: Any) -> list[dict[str, Any]]:
    chart = helm_python.Chart.load(CHART)
    rendered = chart.render(
        {"existingSecret": SECRET, **values}, name="ops", namespace="carapulse", is_install=True
    )
    return [doc for text in rendered.values() for doc in yaml.safe_load_all(text) if doc]


def _one(manifests: list[dict[str, Any]], kind: str, component: str | None = None) -> dict[str, Any]:
    found = [
        m
        for m in manifests
        if m["kind"] == kind
        and (component is None or m["metadata"]["labels"].get("app.kubernetes.io/component") == component)
    ]
    assert len(found) == 1, f"{len(found)} {kind} ({component})"
    return found[0]


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    return container


def _runs(args: list[str]) -> str:
    """The CLI function the container's arguments reach (argparse exits on an unknown command)."""
    return _parser().parse_args(args).run.__name__


EVERYTHING = {"worker": {"enabled": True}, "serviceMonitor": {"enabled": True}, "mode": "socket"}


@pytest.mark.parametrize("values", [{}, EVERYTHING], ids=["defaults", "everything"])
def test_every_manifest_meets_the_kubernetes_schema(values: dict[str, Any]) -> None:
    for manifest in _render(**values):
        if manifest["apiVersion"].startswith("monitoring.coreos.com/"):
            continue
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_helm_lint_finds_no_error_or_warning() -> None:
    report = helm_python.lint(CHART, {"existingSecret": SECRET}, strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_the_chart_renders_no_secret_and_needs_an_existing_one() -> None:
    assert all(m["kind"] != "Secret" for m in _render())
    with pytest.raises(helm_python.HelmError, match="existingSecret"):
        helm_python.Chart.load(CHART).render({}, name="ops", namespace="carapulse", is_install=True)


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"mode": "grpc"}, "/mode"),
        ({"config": {"SLACK_BOT_TOKEN": "xoxb-1"}}, "/config"),
        ({"config": {"DATABASE_URL": "postgresql+asyncpg://u:p@db/c"}}, "/config"),
        ({"config": {"lower_case": "x"}}, "lower_case"),
        ({"replicaCount": -1}, "/replicaCount"),
    ],
)
def test_bad_values_are_refused_by_the_values_schema(values: dict[str, Any], problem: str) -> None:
    with pytest.raises(helm_python.HelmValuesError, match=problem):
        _render(**values)


def test_the_deployment_probes_health_and_readiness_on_its_named_port() -> None:
    manifests = _render()
    container = _container(_one(manifests, "Deployment", "serve"))
    assert container["args"] == ["serve"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    (port,) = container["ports"]
    assert port["name"] == "http"
    config = _one(manifests, "ConfigMap")
    assert config["data"]["PORT"] == str(port["containerPort"])
    assert container["resources"]["requests"] and container["resources"]["limits"]


def test_pods_run_as_the_images_non_root_user_with_a_read_only_root() -> None:
    commands = list(dockerfile.parse_file(str(ROOT / "Dockerfile")))
    image_uid = int(next(c for c in reversed(commands) if c.cmd == "USER").value[0].split(":")[0])
    for workload in _render(**EVERYTHING):
        if workload["kind"] not in ("Deployment", "Job"):
            continue
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == image_uid
        security = _container(workload)["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        mounts = {m["mountPath"] for m in _container(workload)["volumeMounts"]}
        assert "/tmp" in mounts


def test_containers_read_settings_from_the_configmap_and_the_named_secret() -> None:
    manifests = _render(config={"CARAPULSE_ENVIRONMENT": "prod", "ROLES": {"U0123ALICE1": ["admin"]}})
    config = _one(manifests, "ConfigMap")
    assert config["data"]["CARAPULSE_ENVIRONMENT"] == "prod"
    assert config["data"]["ROLES"] == '{"U0123ALICE1":["admin"]}'
    env_from = _container(_one(manifests, "Deployment", "serve"))["envFrom"]
    assert env_from == [
        {"configMapRef": {"name": config["metadata"]["name"]}},
        {"secretRef": {"name": SECRET}},
    ]


def test_the_migration_job_runs_before_install_and_upgrade_with_the_secret_alone() -> None:
    job = _one(_render(config={"CARAPULSE_ENVIRONMENT": "prod"}), "Job", "migrate")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    container = _container(job)
    assert container["args"] == ["migrate"] and _runs(container["args"]) == "_migrate"
    assert container["envFrom"] == [{"secretRef": {"name": SECRET}}]
    assert container["env"] == [{"name": "CARAPULSE_ENVIRONMENT", "value": "prod"}]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert all(m["kind"] != "Job" for m in _render(migrations={"enabled": False}))


def test_the_service_and_disruption_budget_select_the_serving_pods() -> None:
    manifests = _render()
    pod_labels = _one(manifests, "Deployment", "serve")["spec"]["template"]["metadata"]["labels"]
    service = _one(manifests, "Service")
    assert service["spec"]["selector"] == pod_labels
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    budget = _one(manifests, "PodDisruptionBudget")
    assert budget["spec"]["selector"]["matchLabels"] == pod_labels
    assert all(m["kind"] != "PodDisruptionBudget" for m in _render(podDisruptionBudget={"enabled": False}))


def test_the_service_monitor_is_off_by_default_and_scrapes_metrics_of_the_service() -> None:
    assert all(m["kind"] != "ServiceMonitor" for m in _render())
    manifests = _render(serviceMonitor={"enabled": True, "labels": {"release": "kube-prometheus"}})
    monitor, service = _one(manifests, "ServiceMonitor"), _one(manifests, "Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus"
    selected = monitor["spec"]["selector"]["matchLabels"]
    assert selected.items() <= service["metadata"]["labels"].items()
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}


def test_a_separate_worker_takes_the_work_off_the_serving_pods() -> None:
    assert all(m["metadata"]["labels"].get("app.kubernetes.io/component") != "worker" for m in _render())
    manifests = _render(worker={"enabled": True, "replicaCount": 3})
    worker = _one(manifests, "Deployment", "worker")
    assert worker["spec"]["replicas"] == 3
    assert _container(worker)["args"] == ["worker"] and _runs(["worker"]) == "_worker"
    assert _container(_one(manifests, "Deployment", "serve"))["args"] == ["serve", "--no-worker"]


def test_socket_mode_serves_with_the_socket_flag() -> None:
    container = _container(_one(_render(mode="socket"), "Deployment", "serve"))
    assert container["args"] == ["serve", "--socket"]
