"""What helm 3 prints, for the stand-in helm: `-o json` documents shaped as helm's own structs
(pkg/release.Release, cmd/helm's releaseElement and releaseInfo) and its error sentences."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

NOT_FOUND = "Error: release: not found\n"


@dataclass(frozen=True)
class Chart:
    name: str = "web"
    version: str = "1.4.0"
    app_version: str = "2.1.0"

    @property
    def label(self) -> str:
        return f"{self.name}-{self.version}"


def deployment_manifest(name: str, *, image: str, replicas: int = 2, secret: str | None = None) -> str:
    """A rendered manifest as helm stores it: documents led by `---` and a `# Source:` comment."""
    documents = [
        f"---\n# Source: web/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n"
        f"  name: {name}\nspec:\n  ports:\n  - port: 80\n",
        f"---\n# Source: web/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        f"  name: {name}\nspec:\n  replicas: {replicas}\n  template:\n    spec:\n      containers:\n"
        f"      - name: web\n        image: {image}\n",
    ]
    if secret is not None:
        encoded = base64.b64encode(secret.encode()).decode()
        documents.append(
            f"---\n# Source: web/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n"
            f"  name: {name}-db\ndata:\n  password: {encoded}\n"
        )
    return "".join(documents)


def release(
    name: str,
    namespace: str,
    revision: int,
    *,
    status: str = "deployed",
    description: str = "Upgrade complete",
    chart: Chart | None = Chart(),
    manifest: str = "",
    config: dict[str, Any] | None = None,
) -> str:
    """`helm upgrade -o json` (chart included) or, with chart=None, `helm status -o json` (which strips
    the chart before printing)."""
    document: dict[str, Any] = {
        "name": name,
        "info": {
            "first_deployed": "2024-05-02T10:11:12.345678901Z",
            "last_deployed": f"2024-05-{revision + 2:02d}T09:00:00.123456789Z",
            "deleted": "",
            "description": description,
            "status": status,
            "notes": f"{name} is listening on port 80\n",
        },
    }
    if chart is not None:
        document["chart"] = {
            "metadata": {
                "name": chart.name,
                "version": chart.version,
                "description": "A web service",
                "apiVersion": "v2",
                "appVersion": chart.app_version,
                "type": "application",
            },
            "lock": None,
            "templates": [{"name": "templates/deployment.yaml", "data": "YXBpVmVyc2lvbjogYXBwcy92MQo="}],
            "values": {"replicaCount": 1, "image": {"repository": "registry.example/web"}},
            "schema": None,
            "files": [],
        }
    document |= {"config": config or {}, "manifest": manifest, "version": revision, "namespace": namespace}
    return json.dumps(document)


def history(rows: Sequence[tuple[int, str, Chart, str]]) -> str:
    """`helm history -o json`: (revision, status, chart, description) per row, oldest first."""
    return json.dumps(
        [
            {
                "revision": revision,
                "updated": f"2024-05-{revision + 2:02d}T09:00:00.123456789Z",
                "status": status,
                "chart": chart.label,
                "app_version": chart.app_version,
                "description": description,
            }
            for revision, status, chart, description in rows
        ]
    )


def release_list(rows: Sequence[tuple[str, str, int, str, Chart]]) -> str:
    """`helm list -o json`: (name, namespace, revision, status, chart); helm prints the revision as a
    string and the time in Go's default format."""
    return json.dumps(
        [
            {
                "name": name,
                "namespace": namespace,
                "revision": str(revision),
                "updated": "2024-05-07 09:00:00.123456789 +0000 UTC",
                "status": status,
                "chart": chart.label,
                "app_version": chart.app_version,
            }
            for name, namespace, revision, status, chart in rows
        ]
    )
