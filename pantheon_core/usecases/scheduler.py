"""The periodic-job scheduler: ``tick`` enqueues each periodic job that is due.

Many processes may tick (every worker, every API instance): each job's next run time is a
setting changed by compare-and-swap, so exactly one ticking process enqueues each run,
whatever the number of schedulers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pantheon_core.domain.jobs import PERIODIC_JOBS
from pantheon_core.usecases.deps import UseCase

KEY = "scheduler.next_at.{name}"


class TickScheduler(UseCase):
    """Enqueue the periodic jobs that are due; returns their names. Without a job queue
    (tests, scripts) nothing is scheduled."""

    async def __call__(self) -> list[str]:
        jobs = self.deps.jobs
        if jobs is None:
            return []
        now = self.deps.clock.now()
        fired: list[str] = []
        for name, every_s in PERIODIC_JOBS:
            key = KEY.format(name=name)
            async with self.deps.uow() as uow:
                current = await uow.settings.get(key)
                due = current is None or datetime.fromisoformat(current) <= now
                if not due:
                    continue
                following = (now + timedelta(seconds=every_s)).isoformat()
                won = await uow.settings.swap(key, current, following, now=now)
                await uow.commit()
            if won:
                await jobs.enqueue(name, {})
                fired.append(name)
        return fired
