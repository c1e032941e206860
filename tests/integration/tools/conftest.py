"""Fixtures the tool integration tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.moto_server import MotoServer, moto_server


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
