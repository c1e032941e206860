"""The fakes an end-to-end test runs `carapulse` processes against."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.playground.kubernetes.server import FakeKubernetes
from bot.playground.slack.web_api import FakeSlack


@pytest.fixture
async def fakes(tmp_path: Path) -> AsyncIterator[tuple[FakeSlack, FakeKubernetes, Path]]:
    """Fake Slack, and a fake cluster holding shop/checkout at 2 replicas, with its kubeconfig."""
    async with FakeSlack() as slack, FakeKubernetes(convergence_delay=0.2) as kube:
        kube.add_deployment("shop", "checkout", replicas=2)
        yield slack, kube, kube.write_kubeconfig(tmp_path / "kubeconfig")
        assert slack.violations == []
