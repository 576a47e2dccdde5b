"""Helpers for tests of background jobs on a real container: queue through the container's
``JobQueue``, wait for the job's run, run ``pantheon worker`` in a process of its own.

Shared by ``test_jobs.py`` and ``test_parse_jobs.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio

from pantheon_adapters.bootstrap import Container
from pantheon_core.actor import Actor
from pantheon_core.domain.jobs import JobRun, JobStatus
from pantheon_core.ports.jobs import JobQueue
from pantheon_core.usecases.catalog import UseCases

REPO_ROOT = Path(__file__).resolve().parents[2]


def queue_of(container: Container) -> JobQueue:
    jobs = container.use_cases.run_job.deps.jobs
    assert jobs is not None
    return jobs


async def wait_for_run(use_cases: UseCases, message_id: str, *, timeout_s: float = 60,
                       name: str | None = None) -> JobRun:
    """The last attempt of a queued job, once it has finished (not ``running``/``retrying``).

    The last is the highest attempt, and of those the latest started: a redelivery after a
    worker died keeps the attempt number."""
    deadline = time.monotonic() + timeout_s
    while True:
        runs = [r for r in await use_cases.list_job_runs(Actor.operator(), name=name, limit=500)
                if r.message_id == message_id]
        last = max(runs, key=lambda r: (r.attempt, r.started_at), default=None)
        if last is not None and last.status not in (JobStatus.RUNNING, JobStatus.RETRYING):
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"job {message_id} did not finish in {timeout_s}s: {runs}")
        await anyio.sleep(0.05)


def worker_env(data_dir: Path, redis_url: str, namespace: str,
               **settings: str) -> dict[str, str]:
    """The environment of a ``pantheon worker`` sharing ``data_dir`` (database, files,
    signing secret) and the Redis queues under ``namespace`` with the test: none of the
    caller's ``PANTHEON_*`` variables, ``settings`` as ``PANTHEON_<NAME>``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PANTHEON_")}
    env.update(PANTHEON_DATA_DIR=str(data_dir), PANTHEON_REDIS_URL=redis_url,
               PANTHEON_JOBS_NAMESPACE=namespace, PANTHEON_LOG_LEVEL="INFO")
    env.update({f"PANTHEON_{name.upper()}": value for name, value in settings.items()})
    return env


@contextmanager
def worker_process(env: dict[str, str], log: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """``pantheon worker`` in its own process; stopped with SIGTERM, which must end it
    cleanly."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pantheon_cli", "worker", *args], cwd=REPO_ROOT, env=env,
            stdout=out, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
