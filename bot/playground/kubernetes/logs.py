"""Container logs as the kubelet serves them through `pods/{name}/log`: per container run, filtered by
sinceSeconds, tailLines and limitBytes, with the API server's errors for the wrong container."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.playground.kubernetes.status import JSON, bad_request

Line = tuple[datetime, str]
_Key = tuple[str, str, str]


@dataclass
class Logs:
    # Each container's runs, oldest first; the last is the running one, the one before is "previous".
    _runs: dict[_Key, list[list[Line]]] = field(default_factory=dict)

    def start(self, namespace: str, pod: str, container: str) -> None:
        self._runs.setdefault((namespace, pod, container), []).append([])

    def write(self, namespace: str, pod: str, container: str, lines: list[str], at: datetime | None) -> None:
        when = at or datetime.now(UTC)
        self._runs[(namespace, pod, container)][-1].extend((when, line) for line in lines)

    def forget(self, namespace: str, pod: str) -> None:
        for key in [key for key in self._runs if key[:2] == (namespace, pod)]:
            del self._runs[key]

    def read(self, pod: JSON, query: Mapping[str, str]) -> str:
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        container = _container(pod, query.get("container"))
        runs = self._runs.get((namespace, name, container), [])
        if query.get("previous") == "true":
            if len(runs) < 2:
                raise bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
            lines = runs[-2]
        else:
            _check_started(pod, container)
            lines = runs[-1] if runs else []
        if since := query.get("sinceSeconds"):
            cutoff = datetime.now(UTC) - timedelta(seconds=int(since))
            lines = [line for line in lines if line[0] >= cutoff]
        if tail := query.get("tailLines"):
            lines = lines[-int(tail) :] if int(tail) > 0 else []
        stamped = query.get("timestamps") == "true"
        text = "".join(f"{_stamp(when) + ' ' if stamped else ''}{line}\n" for when, line in lines)
        if limit := query.get("limitBytes"):
            text = text.encode()[: int(limit)].decode(errors="ignore")
        return text


def _container(pod: JSON, wanted: str | None) -> str:
    name = pod["metadata"]["name"]
    names = [c["name"] for c in pod["spec"]["containers"]]
    if wanted is None:
        if len(names) == 1:
            return names[0]
        raise bad_request(
            f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
        )
    if wanted not in names:
        raise bad_request(f"container {wanted} is not valid for pod {name}")
    return wanted


def _check_started(pod: JSON, container: str) -> None:
    for status in pod["status"].get("containerStatuses", []):
        waiting = status.get("state", {}).get("waiting")
        if status["name"] == container and waiting and waiting.get("reason") == "ContainerCreating":
            name = pod["metadata"]["name"]
            raise bad_request(
                f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating'
            )


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
