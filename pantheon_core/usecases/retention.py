"""The retention jobs (FR-DATA-001..003) and the operator's ``pantheon retention run``.

``purge_deleted`` (:class:`PurgeDeleted`), for what has been in the trash over 7 days:

1. rooms, with their agents, conversations, turns and files;
2. direct chats, with their turns and files;
3. agents and files deleted on their own (the others went with their room or chat);
4. the stored objects of the purged files.

``purge_expired_content`` (:class:`PurgeExpiredContent`), for data older than the retention
window (``RetentionPolicy.days``, default 90):

1. conversation summaries written from turns about to be purged: cleared (the next send
   rebuilds the memory from the turns that remain);
2. turns, with their steps and events; their tool-call records keep their numbers (usage)
   and lose their text;
3. files;
4. room sessions and direct chats last active before the window (empty by now);
5. tombstones older than the window;
6. the stored objects of the purged files.

Every step works in batches: one unit of work selects a batch (locking it, and skipping
rows another worker holds), purges it and commits; the next batch starts after the last
one's cursor. Running again purges nothing twice: each run finds only what is still there.
A dry run measures the very same batches and commits nothing. Stored objects are deleted
after their rows, from a queue written in the rows' transaction, so a crash between the
two leaves them queued for the next run, never orphaned.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pantheon_core.actor import Actor
from pantheon_core.domain.jobs import PURGE_DELETED, PURGE_EXPIRED_CONTENT, JobRun, JobStatus
from pantheon_core.domain.retention import (
    Candidate,
    KindTally,
    ProgressCallback,
    PurgeKind,
    PurgeProgress,
    PurgeReport,
    PurgeTally,
    PurgeUnit,
)
from pantheon_core.domain.trash import RESTORE_WINDOW, PurgeReason
from pantheon_core.errors import InvalidInput, PantheonError
from pantheon_core.ids import JobRunId, new_id
from pantheon_core.ports.repositories import Cursor, RetentionRepository
from pantheon_core.usecases.deps import UseCase

logger = logging.getLogger("pantheon.retention")

# (repository, cursor, batch size, lock) -> the next batch
Select = Callable[[RetentionRepository, Cursor | None, int, bool],
                 Awaitable[Sequence[Candidate]]]
Act = Callable[[RetentionRepository, Sequence[str], bool], Awaitable[PurgeTally]]


@dataclass
class _Run:
    """One run of one job: its clock reading, totals and progress display."""

    job: str
    now: datetime
    dry_run: bool
    progress: ProgressCallback | None
    tally: PurgeTally = field(default_factory=PurgeTally)
    blobs_deleted: int = 0
    complete: bool = True

    def add(self, step: str, batch: PurgeTally) -> None:
        self.tally = self.tally.plus(batch)
        if self.progress is not None:
            self.progress(PurgeProgress(job=self.job, step=step, batch=batch,
                                        so_far=self.tally, dry_run=self.dry_run))

    def report(self, cutoff: datetime) -> PurgeReport:
        return PurgeReport(job=self.job, dry_run=self.dry_run, cutoff=cutoff, tally=self.tally,
                           blobs_deleted=self.blobs_deleted, complete=self.complete)


class _Purge(UseCase):
    """The batching both jobs share."""

    async def _sweep(self, run: _Run, step: str, select: Select, act: Act) -> None:
        policy = self.deps.retention
        after: Cursor | None = None
        for _ in range(policy.max_batches):
            async with self.deps.uow() as uow:
                batch = await select(uow.retention, after, policy.batch_size,
                                     not run.dry_run)
                if not batch:
                    return
                tally = await act(uow.retention, [c.id for c in batch], run.dry_run)
                if not run.dry_run:
                    await uow.commit()
            run.add(step, tally)
            if len(batch) < policy.batch_size:
                return
            after = batch[-1].cursor
        run.complete = False  # the next run goes on from here

    async def _units(self, run: _Run, unit: PurgeUnit, reason: PurgeReason, select: Select, *,
                     only_rows: PurgeKind | None = None) -> None:
        """Purge (or measure) ``unit`` batch by batch. ``only_rows``: a dry run counts just
        the units' own rows, because an earlier step already counted what they hold (which
        a real run has removed by then)."""
        async def act(repo: RetentionRepository, ids: Sequence[str],
                      dry_run: bool) -> PurgeTally:
            if dry_run and only_rows is not None:
                return PurgeTally.of({only_rows: KindTally(rows=len(ids))})
            if dry_run:
                return await repo.measure(unit, ids)
            return await repo.purge(unit, ids, now=run.now, reason=reason)

        await self._sweep(run, unit.value, select, act)

    async def _drain_blobs(self, run: _Run) -> None:
        """Delete the queued stored objects (idempotent: a key deleted twice is fine)."""
        blobs, policy = self.deps.blobs, self.deps.retention
        if run.dry_run or blobs is None:
            return  # without a store nothing was stored; the queue waits for one
        for _ in range(policy.max_batches):
            async with self.deps.uow() as uow:
                keys = list(await uow.retention.queued_blobs(limit=policy.batch_size))
            if not keys:
                return
            for key in keys:
                try:
                    await blobs.delete(key)
                except InvalidInput:  # not a key any store can hold: nothing to delete
                    logger.warning("Dropping the malformed storage key %r from the queue", key)
            async with self.deps.uow() as uow:
                await uow.retention.forget_blobs(keys)
                await uow.commit()
            run.blobs_deleted += len(keys)
            run.add("blobs", PurgeTally())
            if len(keys) < policy.batch_size:
                return
        run.complete = False


class PurgeDeleted(_Purge):
    """The ``purge_deleted`` job: hard-delete what has been in the trash over 7 days, with
    everything that belongs to it, and its stored objects; leave tombstones. Idempotent,
    batched, safe for concurrent workers; ``dry_run`` only counts."""

    async def __call__(self, *, dry_run: bool = False,
                       progress: ProgressCallback | None = None) -> PurgeReport:
        run = _Run(PURGE_DELETED, self.deps.clock.now(), dry_run, progress)
        bound = run.now - RESTORE_WINDOW
        for unit in (PurgeUnit.ROOM, PurgeUnit.DIRECT_SESSION, PurgeUnit.AGENT,
                     PurgeUnit.FILE):
            await self._units(run, unit, PurgeReason.GRACE_PERIOD, _deleted(unit, bound))
        await self._drain_blobs(run)
        report = run.report(bound)
        _log(report)
        return report


class PurgeExpiredContent(_Purge):
    """The ``purge_expired_content`` job: remove chat and file data older than the retention
    window; keep billing and usage records, without their text. Idempotent, batched, safe
    for concurrent workers; ``dry_run`` only counts."""

    async def __call__(self, *, dry_run: bool = False,
                       progress: ProgressCallback | None = None) -> PurgeReport:
        run = _Run(PURGE_EXPIRED_CONTENT, self.deps.clock.now(), dry_run, progress)
        bound = run.now - self.deps.retention.window
        for session in (PurgeUnit.ROOM_SESSION, PurgeUnit.DIRECT_SESSION):
            await self._sweep(run, "memories", _stale_memories(session, bound),
                              _clear_memories(session))
        for unit in (PurgeUnit.TURN, PurgeUnit.FILE):
            await self._units(run, unit, PurgeReason.RETENTION, _expired(unit, bound))
        # Conversations idle since before the window hold no turn (nor, for a direct chat,
        # file) from the window on: what they held was purged by the two steps above.
        for unit, kind in ((PurgeUnit.ROOM_SESSION, PurgeKind.ROOM_SESSIONS),
                           (PurgeUnit.DIRECT_SESSION, PurgeKind.DIRECT_SESSIONS)):
            await self._units(run, unit, PurgeReason.RETENTION, _expired(unit, bound),
                              only_rows=kind)
        await self._tombstones(run, bound)
        await self._drain_blobs(run)
        report = run.report(bound)
        _log(report)
        return report

    async def _tombstones(self, run: _Run, bound: datetime) -> None:
        async with self.deps.uow() as uow:
            if run.dry_run:
                dropped = await uow.retention.count_tombstones(purged_before=bound)
            else:
                dropped = await uow.retention.drop_tombstones(purged_before=bound)
                await uow.commit()
        run.add("tombstones", PurgeTally.of(tombstones=dropped))


def _deleted(unit: PurgeUnit, bound: datetime) -> Select:
    async def select(repo: RetentionRepository, after: Cursor | None, limit: int,
                     lock: bool) -> Sequence[Candidate]:
        return await repo.deleted_before(unit, bound, after=after, limit=limit, lock=lock)
    return select


def _expired(unit: PurgeUnit, bound: datetime) -> Select:
    async def select(repo: RetentionRepository, after: Cursor | None, limit: int,
                     lock: bool) -> Sequence[Candidate]:
        return await repo.expired_before(unit, bound, after=after, limit=limit, lock=lock)
    return select


def _stale_memories(unit: PurgeUnit, bound: datetime) -> Select:
    async def select(repo: RetentionRepository, after: Cursor | None, limit: int,
                     lock: bool) -> Sequence[Candidate]:
        return await repo.stale_memories(unit, bound, after=after, limit=limit, lock=lock)
    return select


def _clear_memories(unit: PurgeUnit) -> Act:
    async def act(repo: RetentionRepository, ids: Sequence[str], dry_run: bool) -> PurgeTally:
        cleared = len(ids) if dry_run else await repo.clear_memories(unit, ids)
        return PurgeTally.of(memories=cleared)
    return act


def _log(report: PurgeReport) -> None:
    verb = "would purge" if report.dry_run else "purged"
    counts = ", ".join(f"{kind.value} {tally.rows}" for kind, tally in report.tally.kinds.items())
    logger.info("%s %s %s (before %s; %d stored objects, %d bytes; %d objects deleted)%s",
                report.job, verb, counts or "nothing", report.cutoff.isoformat(),
                report.tally.blobs, report.tally.blob_bytes, report.blobs_deleted,
                "" if report.complete else "; more remains for the next run")


class RunRetention(UseCase):
    """``pantheon retention run``: both purge jobs, now. A real run is for owners and the
    operator and is recorded in ``job_runs`` like a queued one; a dry run (``--dry-run``)
    changes nothing and is open to analysts too."""

    async def __call__(self, actor: Actor, *, dry_run: bool = False,
                       progress: ProgressCallback | None = None) -> Sequence[PurgeReport]:
        if dry_run:
            actor.require_admin_read()
        else:
            actor.require_admin_write()
        reports = []
        for name, job in ((PURGE_DELETED, PurgeDeleted(self.deps)),
                          (PURGE_EXPIRED_CONTENT, PurgeExpiredContent(self.deps))):
            if dry_run:
                reports.append(await job(dry_run=True, progress=progress))
            else:
                reports.append(await self._recorded(name, actor, job, progress))
        return reports

    async def _recorded(self, name: str, actor: Actor, job: PurgeDeleted | PurgeExpiredContent,
                        progress: ProgressCallback | None) -> PurgeReport:
        run = JobRun(id=JobRunId(new_id()), name=name, message_id=f"manual-{new_id()}",
                     attempt=1, status=JobStatus.RUNNING, started_at=self.deps.clock.now(),
                     subject=f"manual run by {actor.label}"[:255])
        async with self.deps.uow() as uow:
            await uow.job_runs.add(run)
            await uow.commit()
        started = time.monotonic()
        status, error = JobStatus.FAILED, None
        try:
            report = await job(progress=progress)
            status = JobStatus.SUCCEEDED
            return report
        except Exception as exc:
            error = f"{exc.code}: {exc.message}" if isinstance(exc, PantheonError) else \
                f"{type(exc).__name__}: {exc}"
            raise
        finally:
            async with self.deps.uow() as uow:
                await uow.job_runs.update(run.finished(
                    self.deps.clock.now(), status,
                    duration_ms=int((time.monotonic() - started) * 1000), error=error))
                await uow.commit()
