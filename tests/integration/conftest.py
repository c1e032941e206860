from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.fakes.moto_server import MotoServer, moto_server
from tests.fakes.prometheus_stack import RunningStack, running_stack
from tests.harness import RunningBot, running_bot


@pytest.fixture
async def bot(database_url: str, tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(database_url=database_url, tmp_path=tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """Real Prometheus and Alertmanager with every target scraped, shared by a test module."""
    with running_stack(tmp_path_factory.mktemp("prometheus-stack")) as running:
        yield running


@pytest.fixture(scope="module")
def moto_process() -> Iterator[MotoServer]:
    """moto's server, started once for each test module that uses it (it takes a second or two)."""
    with moto_server() as server:
        yield server


@pytest.fixture
def moto(moto_process: MotoServer) -> MotoServer:
    """moto's server with what earlier tests created wiped."""
    moto_process.reset()
    return moto_process
