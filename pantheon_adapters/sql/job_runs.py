"""Job runs: one row per execution of a background job (FR-DATA-003, NFR-OBS-003)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select, update

from pantheon_adapters.sql.tables import job_runs
from pantheon_adapters.sql.tx import Tx
from pantheon_core.domain.jobs import JobRun, JobStatus
from pantheon_core.ids import JobRunId


def _row(run: JobRun) -> dict[str, Any]:
    return {"id": run.id, "name": run.name, "message_id": run.message_id,
            "attempt": run.attempt, "status": run.status.value, "subject": run.subject,
            "started_at": run.started_at, "finished_at": run.finished_at,
            "duration_ms": run.duration_ms, "error": run.error}


def _run(row: Row[Any]) -> JobRun:
    return JobRun(id=JobRunId(row.id), name=row.name, message_id=row.message_id,
                  attempt=row.attempt, status=JobStatus(row.status),
                  started_at=row.started_at, subject=row.subject,
                  finished_at=row.finished_at, duration_ms=row.duration_ms, error=row.error)


class SqlJobRunRepository:
    """``JobRunRepository`` over ``job_runs``.

    ``list_for_message`` is by attempt, then start time, then id; ``list_recent`` newest
    first (by start time), ties broken by id (descending).
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def add(self, run: JobRun) -> None:
        await self._tx.execute(job_runs.insert().values(_row(run)))

    async def update(self, run: JobRun) -> None:
        await self._tx.execute(update(job_runs).where(job_runs.c.id == run.id).values(_row(run)))

    async def list_for_message(self, message_id: str) -> Sequence[JobRun]:
        rows = await self._tx.rows(
            select(job_runs).where(job_runs.c.message_id == message_id)
            .order_by(job_runs.c.attempt, job_runs.c.started_at, job_runs.c.id)
        )
        return [_run(row) for row in rows]

    async def list_recent(self, *, name: str | None = None, status: str | None = None,
                          limit: int = 100) -> Sequence[JobRun]:
        statement = select(job_runs)
        if name is not None:
            statement = statement.where(job_runs.c.name == name)
        if status is not None:
            statement = statement.where(job_runs.c.status == status)
        rows = await self._tx.rows(
            statement.order_by(job_runs.c.started_at.desc(), job_runs.c.id.desc()).limit(limit)
        )
        return [_run(row) for row in rows]
