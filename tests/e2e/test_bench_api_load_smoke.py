"""The load benchmark's ``--smoke`` mode end to end: a throwaway PostgreSQL database, the
real ``pantheon serve`` and the floor app, four clients for a few seconds per phase. It
checks that the report is written and that nothing failed — never how fast anything was."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from bench.api_load import run
from tests.services import POSTGRES_ENV, unavailable


def test_api_load_smoke_writes_its_report_without_errors(tmp_path: Path) -> None:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        unavailable(f"{POSTGRES_ENV} is not set")
    assert base is not None
    database = f"pantheon_test_bench_{uuid.uuid4().hex[:12]}"

    code = run.run(["--smoke", "--postgres-url", base.replace("postgresql+psycopg://",
                                                               "postgresql://"),
                    "--database", database, "--results-dir", str(tmp_path)])

    assert code == 0
    [report] = tmp_path.glob("api-load-*.json")
    assert report.with_suffix(".md").exists()
    results = json.loads(report.read_text())
    assert results["goals"]["no_errors"]["met"] is True
    phases = {p["phase"]: p for p in results["phases"]}
    assert set(phases) == {"floor", "pantheon", "pantheon+turns", "floor capacity",
                           "pantheon capacity"}
    for phase in phases.values():
        assert phase["all"]["ok"] > 0
        assert phase["all"]["error_rate"] == 0
    turns = phases["pantheon+turns"]["turns"]
    assert turns["sent"] == turns["completed"] == 4
    assert results["seed"]["rows"]["turns"] >= 4
