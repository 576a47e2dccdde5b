"""Background jobs as the product sees them: names, and one ``JobRun`` per execution
(FR-DATA-003, NFR-OBS-003) so every job is observable: what ran, how often, how long, why it
failed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from pantheon_core.ids import JobRunId

PARSE_FILE = "parse_file"
PURGE_EXPIRED_CREDENTIALS = "purge_expired_credentials"
ROLLUP_USAGE = "rollup_usage"
SWEEP_RESERVATIONS = "sweep_reservations"
EXPIRE_PLAN_CREDITS = "expire_plan_credits"
REQUEUE_STUCK_FILES = "requeue_stuck_files"
PURGE_DELETED = "purge_deleted"  # the trash, 7 days after deletion (FR-DATA-002)
PURGE_EXPIRED_CONTENT = "purge_expired_content"  # past the retention window (FR-DATA-001)
JOB_NAMES: tuple[str, ...] = (PARSE_FILE, PURGE_EXPIRED_CREDENTIALS, ROLLUP_USAGE,
                              SWEEP_RESERVATIONS, EXPIRE_PLAN_CREDITS, REQUEUE_STUCK_FILES,
                              PURGE_DELETED, PURGE_EXPIRED_CONTENT)

# What the scheduler enqueues, and how often (seconds).
PERIODIC_JOBS: tuple[tuple[str, int], ...] = (
    (ROLLUP_USAGE, 60),  # the raw tail analytics scan stays about a minute of usage
    (SWEEP_RESERVATIONS, 300),
    (REQUEUE_STUCK_FILES, 120),
    (EXPIRE_PLAN_CREDITS, 3600),
    (PURGE_EXPIRED_CREDENTIALS, 3600),
    (PURGE_DELETED, 3600),
    (PURGE_EXPIRED_CONTENT, 3600),
)


class JobStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    RETRYING = "retrying"  # this attempt failed; the queue will try again
    FAILED = "failed"  # this attempt failed and no retry follows
    ABANDONED = "abandoned"  # the process died mid-run; a later attempt took over


@dataclass(frozen=True, slots=True)
class JobRun:
    id: JobRunId
    name: str
    message_id: str  # the queue's id for the job, shared by all its attempts
    attempt: int  # 1 for the first execution
    status: JobStatus
    started_at: datetime
    subject: str = ""  # what the job is about, e.g. the file id
    finished_at: datetime | None = None
    duration_ms: int | None = None
    error: str | None = None

    def finished(self, now: datetime, status: JobStatus, *, duration_ms: int,
                 error: str | None = None) -> JobRun:
        return replace(self, status=status, finished_at=now, duration_ms=duration_ms,
                       error=error[:2000] if error else None)
