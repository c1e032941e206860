"""Finding the Prometheus and Alertmanager binaries: skip on a bare machine, fail on CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.prometheus_stack import binaries


def test_missing_binaries_skip_naming_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception) as skipped:
        binaries()

    assert str(skipped.value) == (
        "prometheus, prometheus-alertmanager or alertmanager not on PATH "
        "(apt-get install prometheus prometheus-alertmanager)"
    )


def test_missing_binaries_fail_on_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", "true")

    with pytest.raises(
        pytest.fail.Exception, match=r"^prometheus, prometheus-alertmanager or alertmanager not"
    ):
        binaries()


def test_alertmanager_under_its_upstream_name_is_found(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("prometheus", "alertmanager"):
        binary = tmp_path / name
        binary.write_text("#!/bin/sh\n")
        binary.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))

    assert binaries() == (str(tmp_path / "prometheus"), str(tmp_path / "alertmanager"))
