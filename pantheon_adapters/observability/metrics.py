"""Prometheus metrics of one process (NFR-OBS-003); names and labels in docs/observability.md.

One :class:`Metrics` per process, made by its entry point (the API's ``create_app``, the
worker) and handed to the composition root, which gives it to what records: the HTTP
middleware, the LLM adapter decorator, the background tasks, the job runtime. Each has its
own registry, so two apps in one process (tests) never mix their numbers.

A server of several processes (``pantheon serve --workers N``) shares its numbers through a
directory (``shared_dir``, see :mod:`.multiprocess`): each process writes there, and a scrape
of any of them reads the sum of all.

Labels are bounded sets by construction: route *templates* (never raw paths), methods from
a fixed list, status classes, model aliases, provider error codes, job names.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from pantheon_adapters.observability.multiprocess import process_exited, shared_exposition

log = logging.getLogger("pantheon.metrics")

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
HTTP_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LLM_BUCKETS: Final = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 180.0)
JOB_BUCKETS: Final = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
JOB_STATUSES: Final = ("succeeded", "retrying", "failed")
TURN_TASK: Final = "turn"  # background tasks named ``turn:<id>`` run turns

# ``{(queue, state): messages}``; state is ``ready``, ``delayed`` (waiting for a retry's
# backoff) or ``dead`` (out of retries).
QueueDepths = Callable[[], Mapping[tuple[str, str], int]]


class Metrics:
    """Every series Pantheon exports, in one registry.

    ``shared_dir``: the multiprocess directory this process's values are written to (see
    :func:`~pantheon_adapters.observability.multiprocess.multiprocess_dir`); the exposition
    then merges every process's files instead of reading this registry.
    """

    content_type: Final = CONTENT_TYPE  # of :meth:`exposition`

    def __init__(self, *, shared_dir: Path | None = None) -> None:
        self.shared_dir = shared_dir
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            "pantheon_http_requests", "HTTP requests answered.",
            ["method", "route", "status_class"], registry=r)
        self.http_failures = Counter(
            "pantheon_http_request_failures", "HTTP requests answered with a 5xx.",
            ["method", "route", "status_class"], registry=r)
        self.http_latency = Histogram(
            "pantheon_http_request_duration_seconds",
            "Time to answer an HTTP request (event streams: until the stream starts).",
            ["method", "route"], buckets=HTTP_BUCKETS, registry=r)
        self.llm_calls = Counter(
            "pantheon_llm_calls", "LLM call attempts, by model alias and outcome.",
            ["model_alias", "status"], registry=r)
        self.llm_latency = Histogram(
            "pantheon_llm_call_duration_seconds", "Duration of LLM call attempts.",
            ["model_alias", "status"], buckets=LLM_BUCKETS, registry=r)
        # Both gauges count work in flight, which lives and dies with its process: with
        # several processes the server's figure is the sum over those still running
        # ("livesum"; a dead process's files are dropped). Ignored with one process.
        self.turns_active = Gauge(
            "pantheon_turns_active", "Turns running in this server (all its processes).",
            multiprocess_mode="livesum", registry=r)
        self.streams_active = Gauge(
            "pantheon_streams_active",
            "Turn event streams (SSE/NDJSON) open on this server (all its processes).",
            multiprocess_mode="livesum", registry=r)
        self.job_runs = Counter(
            "pantheon_job_runs", "Job attempts run by this process, by job and outcome.",
            ["job", "status"], registry=r)
        self.job_failures = Counter(
            "pantheon_job_failures", "Job attempts that failed (retrying or failed).",
            ["job"], registry=r)
        self.job_duration = Histogram(
            "pantheon_job_duration_seconds", "Duration of job attempts.", ["job"],
            buckets=JOB_BUCKETS, registry=r)
        self._queues: dict[int, QueueDepths] = {}
        self._queue_depths = _QueueDepthCollector(self._queues)
        r.register(self._queue_depths)
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=r)

    # -- HTTP ------------------------------------------------------------------------------

    def observe_request(self, *, method: str, route: str, status: int,
                        duration_s: float) -> None:
        method = method if method in METHODS else "other"
        status_class = f"{min(max(status // 100, 1), 5)}xx"
        self.http_requests.labels(method, route, status_class).inc()
        if status >= 500:
            self.http_failures.labels(method, route, status_class).inc()
        self.http_latency.labels(method, route).observe(duration_s)

    def stream_opened(self) -> None:
        self.streams_active.inc()

    def stream_closed(self) -> None:
        self.streams_active.dec()

    # -- LLM calls -------------------------------------------------------------------------

    def observe_llm_call(self, *, model_alias: str, status: str, duration_s: float) -> None:
        self.llm_calls.labels(model_alias, status).inc()
        self.llm_latency.labels(model_alias, status).observe(duration_s)

    # -- background tasks (the TaskObserver of InProcessTasks) -------------------------------

    def task_started(self, name: str) -> None:
        if name.partition(":")[0] == TURN_TASK:
            self.turns_active.inc()

    def task_finished(self, name: str) -> None:
        if name.partition(":")[0] == TURN_TASK:
            self.turns_active.dec()

    # -- jobs --------------------------------------------------------------------------------

    def declare_jobs(self, names: Iterable[str]) -> None:
        """Export every job's series at zero, so a rate over them exists before a run."""
        for job in names:
            self.job_failures.labels(job)
            for status in JOB_STATUSES:
                self.job_runs.labels(job, status)

    def observe_job(self, *, job: str, status: str, duration_s: float) -> None:
        self.job_runs.labels(job, status).inc()
        if status != "succeeded":
            self.job_failures.labels(job).inc()
        self.job_duration.labels(job).observe(duration_s)

    def watch_queues(self, depths: QueueDepths) -> Callable[[], None]:
        """Report ``depths()`` at every scrape (it may block briefly: scrapes run off the
        event loop); returns the function that stops it."""
        key = id(depths)
        self._queues[key] = depths

        def unwatch() -> None:
            self._queues.pop(key, None)

        return unwatch

    # -- exposition ----------------------------------------------------------------------------

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format (blocking: queue depths are read).

        With a ``shared_dir``: every process's counters, histograms and gauges, merged, and
        the queue depths read by this process only — they are the broker's figures, the
        same whichever process reads them, so they are read once, never summed over
        processes. The ``process_*``/``python_*`` series are left out: they describe one
        process, and which one answers changes from scrape to scrape.
        """
        if self.shared_dir is None:
            return generate_latest(self.registry)
        return shared_exposition(self.shared_dir, self._queue_depths)

    def close(self) -> None:
        """This process stops serving: with a ``shared_dir``, its in-flight gauges leave
        the server's sums (its counters stay). Nothing to do otherwise."""
        if self.shared_dir is not None:
            process_exited(self.shared_dir)


class _QueueDepthCollector(Collector):
    """``pantheon_queue_depth{queue, state}``, read from the job brokers at scrape time."""

    def __init__(self, sources: Mapping[int, QueueDepths]) -> None:
        self._sources = sources

    def describe(self) -> Iterable[Metric]:
        return [GaugeMetricFamily("pantheon_queue_depth", "Jobs waiting in a queue.",
                                  labels=["queue", "state"])]

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("pantheon_queue_depth", "Jobs waiting in a queue.",
                                   labels=["queue", "state"])
        for depths in list(self._sources.values()):
            try:
                measured = depths()
            except Exception as exc:  # a scrape must answer even when the broker does not
                log.warning("Reading the job queue depths failed: %s", exc)
                continue
            for (queue, state), value in sorted(measured.items()):
                family.add_metric([queue, state], value)
        yield family
