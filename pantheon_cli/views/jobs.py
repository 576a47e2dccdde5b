"""Background job runs: one row per execution (FR-DATA-003, NFR-OBS-003)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from pantheon_cli.views.cells import NONE, iso, when
from pantheon_core.domain.jobs import JobRun

STATUS_STYLES = {"succeeded": "green", "running": "cyan", "retrying": "yellow",
                 "failed": "red", "abandoned": "magenta"}


class JobRunView(TypedDict):
    id: str
    name: str
    message_id: str
    attempt: int
    status: str
    subject: str
    started_at: str | None
    finished_at: str | None
    duration_ms: int | None
    error: str | None


def run_data(run: JobRun) -> JobRunView:
    return JobRunView(id=run.id, name=run.name, message_id=run.message_id, attempt=run.attempt,
                      status=run.status.value, subject=run.subject,
                      started_at=iso(run.started_at), finished_at=iso(run.finished_at),
                      duration_ms=run.duration_ms, error=run.error)


def runs_data(runs: Sequence[JobRun]) -> list[JobRunView]:
    return [run_data(run) for run in runs]


def runs_table(runs: list[JobRunView]) -> RenderableType:
    if not runs:
        return Text("No job runs recorded yet.", style="dim")
    table = Table(title="Job runs (newest first)", title_justify="left")
    table.add_column("Started", no_wrap=True)
    table.add_column("Job", style="bold", overflow="fold", min_width=10)
    table.add_column("Attempt", justify="right")
    table.add_column("Status")
    table.add_column("Duration", justify="right")
    table.add_column("Subject", style="dim", overflow="fold")
    table.add_column("Error", overflow="fold")
    for run in runs:
        duration = NONE if run["duration_ms"] is None else f"{run['duration_ms']} ms"
        table.add_row(when(run["started_at"]), run["name"], str(run["attempt"]),
                      Text(run["status"], style=STATUS_STYLES.get(run["status"], "")),
                      duration, _short(run["subject"]), (run["error"] or "")[:200] or NONE)
    return table


def _short(subject: str) -> str:
    """A long id cut to its first 8 characters (``--json`` has it whole)."""
    return NONE if not subject else subject if len(subject) <= 12 else subject[:8] + "…"
