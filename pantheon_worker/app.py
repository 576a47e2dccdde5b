"""The ``pantheon worker`` process: consumes background jobs, and schedules the periodic ones.

The broker, its actors and the container jobs run in all come from the composition root
(:func:`~pantheon_adapters.bootstrap.build_job_runtime`); this module only runs them.
Nothing happens at import time.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread

from pantheon_adapters.bootstrap import (
    Settings,
    build_container,
    build_job_runtime,
    database_upgrade,
    load_settings,
    new_metrics,
    setup_observability,
    start_worker_metrics,
)

if TYPE_CHECKING:
    from pantheon_adapters.bootstrap import JobRuntime, Metrics

logger = logging.getLogger("pantheon.worker")

SERVICE = "worker"

TICK_INTERVAL_S = 15.0


def run_worker(
    settings: Settings | None = None,
    *,
    processes: int = 1,
    threads: int = 4,
    tick_interval_s: float = TICK_INTERVAL_S,
    stop: threading.Event | None = None,
) -> None:
    """Consume jobs until SIGINT/SIGTERM (or ``stop`` is set).

    The parent process also runs the scheduler: every ``tick_interval_s`` it enqueues the
    periodic jobs that are due (rollups, reservation sweeps, plan rollover, purges, stuck
    parses; ``domain.jobs.PERIODIC_JOBS``). Any number of workers may schedule: a
    compare-and-swap in the database lets exactly one fire each run. ``processes > 1`` needs
    Redis: with the in-memory broker each process would only see its own queue.

    Logs go out as ``PANTHEON_LOG_FORMAT`` says (each job's lines with its name and message
    id), errors to Sentry when ``PANTHEON_SENTRY_DSN`` is set, and with
    ``PANTHEON_WORKER_METRICS_PORT`` each process serves its metrics (job runs, failures,
    durations, queue depths) on that port plus its index (0 for this one, 1… for the others).
    """
    settings = settings or load_settings()
    setup_observability(settings, service=SERVICE)
    if processes > 1 and not settings.redis_url:
        raise ValueError("Several worker processes need PANTHEON_REDIS_URL to share a queue.")
    if settings.should_auto_migrate:  # once, here: the containers jobs run in do not
        asyncio.run(database_upgrade(settings))
    stop = stop or threading.Event()
    children = [_spawn(settings, threads, index) for index in range(1, processes)]
    try:
        _serve(settings, threads=threads, tick_interval_s=tick_interval_s, stop=stop)
    finally:
        for child in children:
            child.terminate()  # SIGTERM: the child shuts its worker down gracefully
        for child in children:
            child.join()


def _spawn(settings: Settings, threads: int,
           index: int) -> multiprocessing.process.BaseProcess:
    context = multiprocessing.get_context("spawn")
    child = context.Process(target=_serve_child, args=(settings, threads, index), daemon=False)
    child.start()
    return child


def _serve_child(settings: Settings, threads: int, index: int) -> None:
    """A child process: consumes jobs; the parent alone schedules the periodic ones."""
    setup_observability(settings, service=SERVICE)
    _serve(settings, threads=threads, tick_interval_s=None, stop=threading.Event(),
           index=index)


def _serve(settings: Settings, *, threads: int, tick_interval_s: float | None,
           stop: threading.Event, index: int = 0) -> None:
    metrics = new_metrics()
    runtime = build_job_runtime(settings, metrics=metrics)
    timer = None
    server = None
    with _stop_on_signals(stop):
        try:
            server = start_worker_metrics(settings, metrics, port_offset=index)
            runtime.start_worker(threads=threads)
            broker = "Redis" if runtime.uses_redis else "in-memory"
            logger.info("Worker started (%s broker, %d threads)", broker, threads)
            if tick_interval_s is not None:
                timer = threading.Thread(
                    target=_schedule, name="pantheon-scheduler", daemon=True,
                    args=(settings, runtime, metrics, tick_interval_s, stop))
                timer.start()
            while not stop.wait(0.5):
                pass
        finally:
            stop.set()
            if timer is not None:
                timer.join()
            runtime.close()
            if server is not None:
                server.close()
            logger.info("Worker stopped")


def _schedule(settings: Settings, runtime: JobRuntime, metrics: Metrics, interval_s: float,
              stop: threading.Event) -> None:
    """The scheduler thread: tick now and then every ``interval_s`` until ``stop`` is set."""

    async def loop() -> None:
        container = await build_container(settings, jobs=runtime.queue(), inside_worker=True,
                                          metrics=metrics)
        try:
            while not stop.is_set():
                try:
                    fired = await container.use_cases.tick_scheduler()
                except Exception:  # a thread's entry point: log, keep the schedule
                    logger.exception("The scheduler tick failed; it will try again")
                else:
                    if fired:
                        logger.info("Scheduled %s", ", ".join(fired))
                if await anyio.to_thread.run_sync(stop.wait, interval_s):
                    return
        finally:
            await container.aclose()

    anyio.run(loop)


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set ``stop`` (only the main thread may install signal handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, _frame: FrameType | None) -> None:
        logger.info("Received %s; shutting down", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
