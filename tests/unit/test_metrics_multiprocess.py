"""The directory ``pantheon serve --workers N`` shares its metrics through (the whole path,
several real workers, is in ``tests/e2e/test_serve_workers_metrics.py``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pantheon_adapters.bootstrap import shared_metrics_dir
from pantheon_adapters.observability.multiprocess import MULTIPROC_ENV, multiprocess_dir


@pytest.fixture(autouse=True)
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again
    return tmp_path


def test_one_process_gets_no_directory_and_no_variable(private_tmp: Path) -> None:
    with shared_metrics_dir(1) as shared:
        assert shared is None
        assert MULTIPROC_ENV not in os.environ
    assert list(private_tmp.iterdir()) == []


def test_several_get_a_fresh_private_directory_for_as_long_as_they_run(
        private_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MULTIPROC_ENV, "/somewhere/else")
    with shared_metrics_dir(2) as shared:
        assert shared is not None and shared.parent == private_tmp
        assert list(shared.iterdir()) == []
        assert shared.stat().st_mode & 0o777 == 0o700
        assert os.environ[MULTIPROC_ENV] == str(shared)
        (shared / "counter_123.db").write_bytes(b"")
    assert not shared.exists()
    assert os.environ[MULTIPROC_ENV] == "/somewhere/else"


def test_a_variable_set_after_prometheus_client_was_imported_is_not_trusted(
        private_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This test process keeps its values in memory: merging files would leave them out."""
    monkeypatch.setenv(MULTIPROC_ENV, str(private_tmp))
    assert multiprocess_dir() is None
