"""Running background jobs, observably (FR-DATA-003, NFR-OBS-003).

The queue (Dramatiq in production) delivers a job at least once and says which attempt this
is. :class:`RunJob` is what every delivery calls: it records one ``JobRun`` per attempt —
``running`` at the start, committed at once so a stuck or dead job is visible, then
``succeeded``, ``retrying`` or ``failed`` with its duration and error — and dispatches to the
job's use case. :class:`ListJobRuns` is how an admin sees them.

What a failure means for the queue:

- bad input or a missing subject (``InvalidInput``, ``NotFound``): ``failed``; no retry can
  help, so nothing is raised;
- anything else, before the last attempt: ``retrying``, and :class:`RetryJob` is raised for
  the queue to try again later;
- anything else on the last attempt: ``failed`` and logged; nothing is raised.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

from pantheon_core.actor import Actor
from pantheon_core.domain.jobs import (
    EXPIRE_PLAN_CREDITS,
    JOB_NAMES,
    PARSE_FILE,
    PURGE_DELETED,
    PURGE_EXPIRED_CONTENT,
    PURGE_EXPIRED_CREDENTIALS,
    REQUEUE_STUCK_FILES,
    ROLLUP_USAGE,
    SWEEP_RESERVATIONS,
    JobRun,
    JobStatus,
)
from pantheon_core.errors import InvalidInput, NotFound, PantheonError
from pantheon_core.ids import FileId, JobRunId, new_id
from pantheon_core.usecases import analytics, billing, files, housekeeping, retention
from pantheon_core.usecases.deps import UseCase

logger = logging.getLogger("pantheon.jobs")

ABANDONED_ERROR = "The process running this attempt stopped before it finished."
MAX_LIST_LIMIT = 500


class RetryJob(Exception):
    """This attempt failed in a way a later attempt may not; the queue should retry it."""


def describe(exc: BaseException) -> str:
    """A short, stable text for ``JobRun.error``: the error code (or class) and message."""
    if isinstance(exc, PantheonError):
        return f"{exc.code}: {exc.message}"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def unknown_job(name: str) -> InvalidInput:
    return InvalidInput(f"Unknown job {name!r}; known jobs: {', '.join(JOB_NAMES)}.",
                        code="unknown_job", details={"name": name, "known": list(JOB_NAMES)})


class RunJob(UseCase):
    """Run one delivery of a queued job and record it as a ``JobRun``."""

    async def __call__(self, name: str, payload: Mapping[str, str], *, message_id: str,
                       attempt: int, final: bool) -> JobStatus:
        """Returns how the attempt ended: ``succeeded`` or ``failed`` (``retrying`` raises)."""
        run = await self._start(name, payload, message_id=message_id, attempt=attempt)
        started = time.monotonic()
        try:
            await self._dispatch(name, payload, final=final)
        except (InvalidInput, NotFound) as exc:
            logger.warning("Job %s (%s, attempt %d) failed: %s", name, message_id, attempt,
                           describe(exc))
            await self._finish(run, JobStatus.FAILED, started, error=describe(exc))
            return JobStatus.FAILED
        except Exception as exc:
            if final:
                logger.exception("Job %s (%s) failed on its last attempt (%d)", name,
                                 message_id, attempt)
                await self._finish(run, JobStatus.FAILED, started, error=describe(exc))
                return JobStatus.FAILED
            logger.warning("Job %s (%s, attempt %d) failed; it will be retried: %s", name,
                           message_id, attempt, describe(exc))
            await self._finish(run, JobStatus.RETRYING, started, error=describe(exc))
            raise RetryJob(describe(exc)) from exc
        await self._finish(run, JobStatus.SUCCEEDED, started)
        return JobStatus.SUCCEEDED

    async def _start(self, name: str, payload: Mapping[str, str], *, message_id: str,
                     attempt: int) -> JobRun:
        """Record this attempt as running, and earlier attempts still running as abandoned:
        a new delivery of the same message means the process running them died."""
        now = self.deps.clock.now()
        run = JobRun(id=JobRunId(new_id()), name=name, message_id=message_id, attempt=attempt,
                     status=JobStatus.RUNNING, started_at=now, subject=payload.get("file_id", ""))
        async with self.deps.uow() as uow:
            for earlier in await uow.job_runs.list_for_message(message_id):
                if earlier.status is JobStatus.RUNNING:
                    elapsed_ms = int((now - earlier.started_at).total_seconds() * 1000)
                    await uow.job_runs.update(earlier.finished(
                        now, JobStatus.ABANDONED, duration_ms=max(elapsed_ms, 0),
                        error=ABANDONED_ERROR))
            await uow.job_runs.add(run)
            await uow.commit()
        return run

    async def _finish(self, run: JobRun, status: JobStatus, started: float, *,
                      error: str | None = None) -> None:
        duration_ms = int((time.monotonic() - started) * 1000)
        async with self.deps.uow() as uow:
            await uow.job_runs.update(run.finished(self.deps.clock.now(), status,
                                                   duration_ms=duration_ms, error=error))
            await uow.commit()

    async def _dispatch(self, name: str, payload: Mapping[str, str], *, final: bool) -> None:
        if name == PARSE_FILE:
            file_id = payload.get("file_id")
            if not file_id:
                raise InvalidInput("A parse_file job needs a file_id.", code="invalid_job",
                                   details={"name": name})
            await files.ParseFile(self.deps)(FileId(file_id), final_attempt=final)
        elif name == PURGE_EXPIRED_CREDENTIALS:
            removed = await housekeeping.PurgeExpiredCredentials(self.deps)()
            logger.info("Purged %d expired credentials", removed)
        elif name == ROLLUP_USAGE:
            result = await analytics.RollupUsage(self.deps)()
            logger.info("Rolled up usage %s..%s (%d daily rows)", result.start, result.end,
                        result.daily_rows)
        elif name == SWEEP_RESERVATIONS:
            await billing.SweepReservations(self.deps)()
        elif name == EXPIRE_PLAN_CREDITS:
            await billing.ExpirePlanCredits(self.deps)()
        elif name == REQUEUE_STUCK_FILES:
            await files.RequeueStuckFiles(self.deps)()
        elif name == PURGE_DELETED:
            await retention.PurgeDeleted(self.deps)()
        elif name == PURGE_EXPIRED_CONTENT:
            await retention.PurgeExpiredContent(self.deps)()
        else:
            raise unknown_job(name)


class ListJobRuns(UseCase):
    """Recent job runs, newest first, optionally of one job or in one status. Admins only
    (owner, analyst or the operator): job runs are operational data, not a user's."""

    async def __call__(self, actor: Actor, *, name: str | None = None,
                       status: str | None = None, limit: int = 50) -> Sequence[JobRun]:
        actor.require_admin_read()
        if name is not None and name not in JOB_NAMES:
            raise unknown_job(name)
        if status is not None:
            allowed = [s.value for s in JobStatus]
            if status not in allowed:
                raise InvalidInput(f"Unknown job status {status!r}; choose one of "
                                   f"{', '.join(allowed)}.", code="invalid_job_status",
                                   details={"allowed": allowed})
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIST_LIMIT}.",
                               code="invalid_limit", details={"max": MAX_LIST_LIMIT})
        async with self.deps.uow() as uow:
            return await uow.job_runs.list_recent(name=name, status=status, limit=limit)
