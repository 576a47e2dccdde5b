"""Background jobs on Dramatiq (FR-DATA-003, NFR-OBS-003).

:class:`JobRuntime` owns one broker — Redis when ``redis_url`` is set, else Dramatiq's
in-memory ``StubBroker`` — and one actor per job name. Every actor is the same thin shell:
it reads the delivery's attempt number from the current message and calls the core's
``run_job`` use case, which records the attempt and dispatches; a ``RetryJob`` from it
becomes Dramatiq's ``Retry``, so the message comes back after an exponential backoff.

Jobs run inside a *host*: a container built by the factory the runtime is given, lazily,
once per worker process, on the event loop Dramatiq's AsyncIO middleware runs async actors
on. It is closed when the worker shuts down, on that loop, before the loop stops.

:class:`DramatiqJobQueue` is the ``JobQueue`` port over a runtime. Where jobs run:

- embedded default (no Redis): on a worker thread of this very process, started on the
  first enqueue and stopped by :meth:`JobRuntime.close`;
- Redis: in ``pantheon worker`` processes (or, with ``jobs_in_process``, here as well).

Given :class:`Metrics`, the runtime counts every attempt by job and outcome, times it, and
reports its queues' depths; each attempt's log lines carry its job name and message id.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import anyio.to_thread
import dramatiq
import redis
from dramatiq.asyncio import EventLoopThread, get_event_loop_thread, set_event_loop_thread
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import DramatiqError, QueueJoinTimeout
from dramatiq.middleware import AsyncIO, CurrentMessage, Middleware, default_middleware

from pantheon_adapters.jobs.queue_depths import RedisQueueDepths, StubQueueDepths
from pantheon_adapters.observability.metrics import Metrics
from pantheon_adapters.redis_options import RedisTimeouts
from pantheon_adapters.settings import Settings
from pantheon_core import correlation
from pantheon_core.domain.jobs import (
    JOB_NAMES,
    PARSE_FILE,
    PURGE_DELETED,
    PURGE_EXPIRED_CONTENT,
    PURGE_EXPIRED_CREDENTIALS,
)
from pantheon_core.errors import Unavailable
from pantheon_core.usecases.catalog import UseCases
from pantheon_core.usecases.deps import FilePolicy
from pantheon_core.usecases.jobs import RetryJob, unknown_job

logger = logging.getLogger("pantheon.jobs")

JOBS_QUEUE = "pantheon"
HOUSEKEEPING_QUEUE = "housekeeping"
DEFAULT_MAX_RETRIES = 3
MIN_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 30_000
IN_PROCESS_THREADS = 2
BROKER_COMMAND_S = 30.0  # the broker's Redis commands (its Lua scripts included)
IDLE_POLL_MS = 250  # how long idle worker threads wait before checking for shutdown
STOP_GRACE_MS = 30_000  # how long a stopping worker lets running jobs finish

_BROKER_ERRORS = (DramatiqError, redis.RedisError, OSError)


class JobHost(Protocol):
    """What jobs run in: a container of use cases (bootstrap builds one per worker)."""

    @property
    def use_cases(self) -> UseCases: ...

    async def aclose(self) -> None: ...


HostFactory = Callable[[], Awaitable[JobHost]]


@dataclass(frozen=True, slots=True)
class JobSpec:
    """How the queue treats one job: its queue and how often a failed delivery is retried."""

    name: str
    queue: str = JOBS_QUEUE
    max_retries: int = DEFAULT_MAX_RETRIES

    @property
    def max_attempts(self) -> int:
        return self.max_retries + 1


def job_specs(files: FilePolicy) -> tuple[JobSpec, ...]:
    """One spec per name in ``JOB_NAMES``."""
    special = {
        PARSE_FILE: JobSpec(PARSE_FILE, max_retries=max(files.parse_max_attempts - 1, 0)),
        PURGE_EXPIRED_CREDENTIALS: JobSpec(PURGE_EXPIRED_CREDENTIALS, queue=HOUSEKEEPING_QUEUE),
        PURGE_DELETED: JobSpec(PURGE_DELETED, queue=HOUSEKEEPING_QUEUE),
        PURGE_EXPIRED_CONTENT: JobSpec(PURGE_EXPIRED_CONTENT, queue=HOUSEKEEPING_QUEUE),
    }
    return tuple(special.get(name, JobSpec(name)) for name in JOB_NAMES)


class JobRuntime:
    """A broker, its actors, and (when asked) a worker consuming them in this process."""

    def __init__(self, settings: Settings, host_factory: HostFactory, *,
                 files: FilePolicy | None = None, in_process: bool = False,
                 min_backoff_ms: int = MIN_BACKOFF_MS,
                 max_backoff_ms: int = MAX_BACKOFF_MS,
                 metrics: Metrics | None = None) -> None:
        self._host_factory = host_factory
        self._in_process = in_process
        self._backoff_ms = (min_backoff_ms, max_backoff_ms)
        self.broker = build_broker(settings, _HostLifecycle(self))
        self.specs = {spec.name: spec for spec in job_specs(files or FilePolicy())}
        self.actors: dict[str, dramatiq.Actor[..., Any]] = {
            spec.name: self._declare(spec) for spec in self.specs.values()}
        self._lock = threading.Lock()
        self._worker: dramatiq.Worker | None = None
        self._closed = False
        self._host: JobHost | None = None
        self._host_loop: asyncio.AbstractEventLoop | None = None
        self._host_lock: asyncio.Lock | None = None
        self._metrics = metrics
        self._depths: RedisQueueDepths | StubQueueDepths | None = None
        self._unwatch: Callable[[], None] | None = None
        if metrics is not None:
            metrics.declare_jobs(self.specs)
            self._depths = self._depth_reader(settings)
            self._unwatch = metrics.watch_queues(self._depths)

    @property
    def uses_redis(self) -> bool:
        return isinstance(self.broker, RedisBroker)

    @property
    def in_process(self) -> bool:
        """Whether an enqueue here starts a worker in this process (if none runs yet)."""
        return self._in_process

    @property
    def worker_running(self) -> bool:
        return self._worker is not None

    def queue(self) -> DramatiqJobQueue:
        """The ``JobQueue`` port over this runtime."""
        return DramatiqJobQueue(self)

    # -- producing ---------------------------------------------------------------------

    def send(self, name: str, payload: Mapping[str, str]) -> str:
        """Queue a job (blocking: call it off the event loop); returns the message id."""
        actor = self.actors.get(name)
        if actor is None:
            raise unknown_job(name)
        if self._closed:
            raise jobs_unavailable()
        try:
            if self._in_process:
                self.start_worker()
            message = actor.send(dict(payload))
        except _BROKER_ERRORS as exc:
            raise jobs_unavailable() from exc
        return str(message.message_id)

    # -- consuming ---------------------------------------------------------------------

    def start_worker(self, *, threads: int = IN_PROCESS_THREADS) -> None:
        """Start consuming every job queue on worker threads of this process (idempotent)."""
        with self._lock:
            if self._closed:
                raise jobs_unavailable()
            if self._worker is not None:
                return
            worker = dramatiq.Worker(self.broker, worker_threads=threads,
                                     worker_timeout=IDLE_POLL_MS)
            worker.start()
            self._worker = worker
        logger.info("Job worker started (%s, %d threads)", type(self.broker).__name__, threads)

    def stop_worker(self, *, timeout_ms: int = STOP_GRACE_MS) -> None:
        """Let running jobs finish (up to ``timeout_ms``), close the host, stop consuming."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop(timeout=timeout_ms)
            logger.info("Job worker stopped")

    def drain(self, *, timeout_ms: int = STOP_GRACE_MS) -> bool:
        """In-memory broker with a worker here: wait (up to ``timeout_ms``) until every
        queued job has run, retries included. True when the queues are empty."""
        if not isinstance(self.broker, StubBroker) or self._worker is None:
            return True
        deadline = time.monotonic() + timeout_ms / 1000
        for queue in sorted({spec.queue for spec in self.specs.values()}):
            left_ms = int((deadline - time.monotonic()) * 1000)
            try:
                if left_ms > 0:
                    self.broker.join(queue, timeout=left_ms, fail_fast=False)
                    continue
            except QueueJoinTimeout:
                pass
            logger.warning("Queued jobs were still waiting at shutdown; they are dropped "
                           "(files left unparsed are queued again later)")
            return False
        return True

    def close(self) -> None:
        """Run what the in-memory queue still holds (bounded), stop the worker (if any) and
        release the broker. Blocking; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.drain()
        self.stop_worker()
        if self._unwatch is not None:
            self._unwatch()
        if isinstance(self._depths, RedisQueueDepths):
            self._depths.close()
        self.broker.close()

    def _depth_reader(self, settings: Settings) -> RedisQueueDepths | StubQueueDepths:
        queues = sorted({spec.queue for spec in self.specs.values()})
        if isinstance(self.broker, RedisBroker):
            return RedisQueueDepths(settings.redis_url or "", settings.jobs_namespace, queues)
        assert isinstance(self.broker, StubBroker)  # build_broker makes one or the other
        return StubQueueDepths(self.broker, queues)

    # -- the actors ----------------------------------------------------------------------

    def _declare(self, spec: JobSpec) -> dramatiq.Actor[..., Any]:
        async def perform(payload: dict[str, str]) -> None:
            await self._perform(spec, payload)

        perform.__name__ = perform.__qualname__ = spec.name
        declare = dramatiq.actor(broker=self.broker, actor_name=spec.name,
                                 queue_name=spec.queue, max_retries=spec.max_retries,
                                 min_backoff=self._backoff_ms[0],
                                 max_backoff=self._backoff_ms[1])
        return declare(perform)

    async def _perform(self, spec: JobSpec, payload: Mapping[str, str]) -> None:
        message = CurrentMessage.get_current_message()
        if message is None:
            raise RuntimeError("No current message: the broker lacks CurrentMessage.")
        attempt = int(message.options.get("retries", 0)) + 1
        started, status = time.perf_counter(), "failed"
        with correlation.bound(job=spec.name, message_id=message.message_id):
            try:
                host = await self._current_host()
                outcome = await host.use_cases.run_job(
                    spec.name, payload, message_id=message.message_id, attempt=attempt,
                    final=attempt >= spec.max_attempts)
                status = outcome.value
            except RetryJob as exc:  # recorded and logged by run_job: retry, no traceback
                status = "retrying"
                raise dramatiq.Retry(str(exc)) from exc
            finally:
                if self._metrics is not None:
                    self._metrics.observe_job(job=spec.name, status=status,
                                              duration_s=time.perf_counter() - started)

    async def _current_host(self) -> JobHost:
        """This event loop's host, built on first use."""
        loop = asyncio.get_running_loop()
        if self._host_loop is not loop:
            self._host, self._host_loop, self._host_lock = None, loop, asyncio.Lock()
        assert self._host_lock is not None
        async with self._host_lock:
            if self._host is None:
                self._host = await self._host_factory()
            return self._host

    def _close_host(self) -> None:
        """Close the host on the loop it lives on (called as the worker shuts down)."""
        host, self._host = self._host, None
        if host is None:
            return
        loop_thread = get_event_loop_thread()
        if loop_thread is None or loop_thread.loop is not self._host_loop:
            logger.warning("The job host's event loop is gone; it was not closed cleanly")
            return
        try:
            loop_thread.run_coroutine(host.aclose())
        except Exception:
            logger.exception("Closing the job host failed")


class DramatiqJobQueue:
    """The ``JobQueue`` port over a :class:`JobRuntime`."""

    def __init__(self, runtime: JobRuntime) -> None:
        self._runtime = runtime

    async def enqueue(self, name: str, payload: Mapping[str, str]) -> str:
        return await anyio.to_thread.run_sync(self._runtime.send, name, dict(payload))


def jobs_unavailable() -> Unavailable:
    return Unavailable("The job queue is not available; try again shortly.",
                       code="jobs_unavailable")


def build_broker(settings: Settings, *extra: Middleware) -> dramatiq.Broker:
    """Redis when ``redis_url`` is set (shared by every worker process), else in memory.

    Middleware: Dramatiq's defaults (retries, time limits, …), the event loop for async
    actors, the current message (for the attempt number), then ``extra``.
    """
    middleware: list[Middleware] = [*(kind() for kind in default_middleware), SharedAsyncIO(),
                                    CurrentMessage(), *extra]
    if settings.redis_url:
        # A bounded retry budget (redis-py's default retries a failing command 10 times);
        # the broker's own Lua scripts may take longer than a plain command.
        timeouts = RedisTimeouts(connect_s=settings.redis_connect_timeout_s,
                                 retries=settings.redis_retries)
        client = redis.Redis.from_url(settings.redis_url,
                                      **timeouts.sync_options(command_s=BROKER_COMMAND_S))
        # dramatiq's RedisBroker.__init__ has no annotations
        return RedisBroker(  # type: ignore[no-untyped-call]
            client=client, middleware=middleware, namespace=settings.jobs_namespace,
            heartbeat_timeout=int(settings.worker_heartbeat_timeout_s * 1000),
            maintenance_chance=settings.worker_maintenance_chance)
    return StubBroker(middleware=middleware)


_loop_lock = threading.Lock()
_loop_users = 0


class SharedAsyncIO(AsyncIO):
    """Dramatiq's ``AsyncIO`` middleware, safe for several workers in one process.

    Dramatiq keeps one event loop thread per process in a global; the stock middleware
    replaces it at every worker start and stops it at every worker stop, so two workers in
    one process (two containers in a test, say) would stop each other's loop. This one
    starts the loop with the first worker and stops it with the last. The thread is a
    daemon, so a runtime nobody closed cannot keep the process alive.
    """

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        global _loop_users
        with _loop_lock:
            if _loop_users == 0 or get_event_loop_thread() is None:
                thread = EventLoopThread(self.logger)
                thread.daemon = True
                thread.start(timeout=5.0)
                set_event_loop_thread(thread)
            _loop_users += 1

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        global _loop_users
        with _loop_lock:
            _loop_users = max(_loop_users - 1, 0)
            if _loop_users == 0 and get_event_loop_thread() is not None:
                super().after_worker_shutdown(broker, worker)  # type: ignore[no-untyped-call]


class _HostLifecycle(Middleware):
    """Closes the runtime's host when a worker shuts down: after its threads have stopped,
    and (being later in the middleware list) before the event loop stops."""

    def __init__(self, runtime: JobRuntime) -> None:
        self._runtime = runtime

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._runtime._close_host()
