"""The ``JobQueue`` port: hand work to background workers (Dramatiq in production)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class JobQueue(Protocol):
    """Enqueues a named job (one of ``domain.jobs.JOB_NAMES``) with a small JSON payload.

    Delivery is at least once: a worker that dies mid-job gets the job redelivered, so every
    job handler is idempotent. ``enqueue`` returns once the job is durably queued (or, for the
    in-process queue, accepted); a broker that is down raises ``Unavailable(jobs_unavailable)``.
    """

    async def enqueue(self, name: str, payload: Mapping[str, str]) -> str:
        """Queue the job; returns its message id."""
        ...
