"""Builds the Dramatiq broker and actors from settings, and runs a worker until signalled.

Nothing happens at import time: the broker and the actors bound to it are created by
:func:`build_worker_app`, once per process.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, default_middleware

from pantheon_adapters.bootstrap import Settings, build_container, load_settings

logger = logging.getLogger("pantheon.worker")

HOUSEKEEPING_QUEUE = "housekeeping"
PURGE_INTERVAL_S = 3600.0


@dataclass(frozen=True)
class WorkerApp:
    """A broker and the actors declared on it."""

    broker: dramatiq.Broker
    purge_expired_credentials: dramatiq.Actor[[], None]


def build_broker(settings: Settings) -> dramatiq.Broker:
    """Redis when ``redis_url`` is set (shared by every worker process), else in memory."""
    middleware = [*(kind() for kind in default_middleware), AsyncIO()]
    if settings.redis_url:
        # dramatiq's RedisBroker.__init__ has no annotations
        return RedisBroker(url=settings.redis_url,  # type: ignore[no-untyped-call]
                           middleware=middleware)
    return StubBroker(middleware=middleware)


def build_worker_app(settings: Settings) -> WorkerApp:
    broker = build_broker(settings)

    async def purge_expired_credentials() -> None:
        """Delete used or expired magic links and expired sessions (idempotent)."""
        container = await build_container(settings)
        try:
            removed = await container.use_cases.purge_expired_credentials()
        finally:
            await container.aclose()
        logger.info("Purged %d expired credentials", removed)

    declare = dramatiq.actor(broker=broker, actor_name="purge_expired_credentials",
                             queue_name=HOUSEKEEPING_QUEUE, max_retries=3)
    purge = declare(purge_expired_credentials)
    return WorkerApp(broker=broker, purge_expired_credentials=purge)


def run_worker(
    settings: Settings | None = None,
    *,
    processes: int = 1,
    threads: int = 4,
    purge_interval_s: float = PURGE_INTERVAL_S,
    stop: threading.Event | None = None,
) -> None:
    """Consume jobs until SIGINT/SIGTERM (or ``stop`` is set).

    The purge of expired credentials is enqueued at start and then every
    ``purge_interval_s``. ``processes > 1`` needs Redis: with the in-memory broker each
    process would only see its own queue.
    """
    settings = settings or load_settings()
    if processes > 1 and not settings.redis_url:
        raise ValueError("Several worker processes need PANTHEON_REDIS_URL to share a queue.")
    stop = stop or threading.Event()
    children = [_spawn(settings, threads) for _ in range(processes - 1)]
    try:
        _serve(settings, threads=threads, purge_interval_s=purge_interval_s, stop=stop)
    finally:
        for child in children:
            child.terminate()  # SIGTERM: the child shuts its worker down gracefully
        for child in children:
            child.join()


def _spawn(settings: Settings, threads: int) -> multiprocessing.process.BaseProcess:
    context = multiprocessing.get_context("spawn")
    child = context.Process(target=_serve_child, args=(settings, threads), daemon=False)
    child.start()
    return child


def _serve_child(settings: Settings, threads: int) -> None:
    """A child process: consumes jobs; the parent alone schedules the periodic ones."""
    _serve(settings, threads=threads, purge_interval_s=None, stop=threading.Event())


def _serve(settings: Settings, *, threads: int, purge_interval_s: float | None,
           stop: threading.Event) -> None:
    app = build_worker_app(settings)
    worker = dramatiq.Worker(app.broker, worker_threads=threads)
    with _stop_on_signals(stop):
        worker.start()
        logger.info("Worker started (%s, %d threads)", type(app.broker).__name__, threads)
        timer = None
        if purge_interval_s is not None:
            timer = threading.Thread(target=_repeat, name="pantheon-purge-timer", daemon=True,
                                     args=(app.purge_expired_credentials.send,
                                           purge_interval_s, stop))
            timer.start()
        try:
            while not stop.wait(0.5):
                pass
        finally:
            stop.set()
            if timer is not None:
                timer.join()
            worker.stop()
            app.broker.close()
            logger.info("Worker stopped")


def _repeat(action: Callable[[], Any], interval_s: float, stop: threading.Event) -> None:
    """Run ``action`` now and then every ``interval_s`` until ``stop`` is set."""
    while not stop.is_set():
        try:
            action()
        except Exception:  # a thread's entry point: log, keep the schedule
            logger.exception("Could not enqueue a periodic job; will try again")
        if stop.wait(interval_s):
            return


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
