"""Jobs, observed: their log lines carry the job and message id, their runs and failures are
counted, queue depths are read from the broker, and the worker serves its own /metrics."""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pantheon_adapters.bootstrap import Container, Settings
from pantheon_adapters.jobs.dramatiq_jobs import JobRuntime
from pantheon_adapters.observability.logs import configure_logging, remove_handler
from pantheon_adapters.observability.metrics import Metrics
from pantheon_core.domain.jobs import JOB_NAMES
from pantheon_worker.app import run_worker
from tests.fakes import fake_app

Labels = frozenset[tuple[str, str]]


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"data_dir": tmp_path, "public_url": "http://testserver",
                                 "redis_url": None, "database_url": None, **overrides}
    return Settings(**values)  # type: ignore[arg-type]


def _samples(text: str) -> dict[tuple[str, Labels], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _runtime(settings: Settings, metrics: Metrics, *, in_process: bool) -> JobRuntime:
    fake = fake_app()

    async def host() -> Container:
        return fake.container(settings)

    return JobRuntime(settings, host, in_process=in_process, metrics=metrics)


@pytest.fixture
def json_lines(tmp_path: Path) -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = configure_logging(_settings(tmp_path, log_format="json"), service="worker",
                                stream=out)
    assert handler is not None
    try:
        yield out
    finally:
        remove_handler(handler)


async def test_job_lines_carry_job_and_message_id_and_runs_are_counted(
        tmp_path: Path, json_lines: io.StringIO) -> None:
    metrics = Metrics()
    runtime = _runtime(_settings(tmp_path), metrics, in_process=True)
    try:
        purge = await anyio.to_thread.run_sync(runtime.send, "purge_expired_credentials", {})
        bad = await anyio.to_thread.run_sync(runtime.send, "parse_file", {})  # no file_id
        assert await anyio.to_thread.run_sync(runtime.drain)
    finally:
        await anyio.to_thread.run_sync(runtime.close)

    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    [purged] = [line for line in lines if line["message"].startswith("Purged ")]
    assert (purged["job"], purged["message_id"], purged["service"]) == (
        "purge_expired_credentials", purge, "worker")
    [refused] = [line for line in lines if line.get("message_id") == bad
                 and line["level"] == "WARNING"]
    assert refused["job"] == "parse_file" and "invalid_job" in refused["message"]

    registry = metrics.registry
    assert registry.get_sample_value("pantheon_job_runs_total", {
        "job": "purge_expired_credentials", "status": "succeeded"}) == 1
    assert registry.get_sample_value("pantheon_job_runs_total", {
        "job": "parse_file", "status": "failed"}) == 1
    assert registry.get_sample_value("pantheon_job_failures_total", {"job": "parse_file"}) == 1
    assert registry.get_sample_value("pantheon_job_failures_total", {
        "job": "purge_expired_credentials"}) == 0
    assert registry.get_sample_value("pantheon_job_duration_seconds_count", {
        "job": "parse_file"}) == 1
    for job in JOB_NAMES:  # every job's series exists before it ever runs
        assert registry.get_sample_value("pantheon_job_failures_total", {"job": job}) is not None


async def test_in_memory_queue_depths(tmp_path: Path) -> None:
    metrics = Metrics()
    runtime = _runtime(_settings(tmp_path), metrics, in_process=False)  # nobody consumes
    try:
        for _ in range(3):
            await anyio.to_thread.run_sync(runtime.send, "purge_expired_credentials", {})
        scraped = _samples(metrics.exposition().decode())
    finally:
        await anyio.to_thread.run_sync(runtime.close)
    depth = "pantheon_queue_depth"
    assert scraped[(depth, frozenset({("queue", "housekeeping"), ("state", "ready")}))] == 3
    assert scraped[(depth, frozenset({("queue", "pantheon"), ("state", "ready")}))] == 0
    assert scraped[(depth, frozenset({("queue", "pantheon"), ("state", "dead")}))] == 0
    after_close = _samples(metrics.exposition().decode())
    assert not [key for key in after_close if key[0] == depth], "a closed runtime reports none"


@pytest.mark.redis
async def test_redis_queue_depths(tmp_path: Path, redis_keyspace: tuple[str, str]) -> None:
    url, prefix = redis_keyspace
    metrics = Metrics()
    settings = _settings(tmp_path, redis_url=url, jobs_namespace=prefix.rstrip(":"))
    runtime = _runtime(settings, metrics, in_process=False)
    try:
        for _ in range(2):
            await anyio.to_thread.run_sync(runtime.send, "purge_expired_credentials", {})
        await anyio.to_thread.run_sync(runtime.send, "parse_file", {"file_id": "f-1"})
        scraped = _samples((await anyio.to_thread.run_sync(metrics.exposition)).decode())
    finally:
        await anyio.to_thread.run_sync(runtime.close)
    depth = "pantheon_queue_depth"
    assert scraped[(depth, frozenset({("queue", "housekeeping"), ("state", "ready")}))] == 2
    assert scraped[(depth, frozenset({("queue", "pantheon"), ("state", "ready")}))] == 1
    assert scraped[(depth, frozenset({("queue", "pantheon"), ("state", "delayed")}))] == 0


def test_a_scrape_answers_when_the_broker_does_not(tmp_path: Path) -> None:
    """A dead Redis costs the queue depths, never the scrape."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    metrics = Metrics()
    runtime = _runtime(_settings(tmp_path, redis_url=f"redis://127.0.0.1:{port}/0"), metrics,
                       in_process=False)
    try:
        text = metrics.exposition().decode()
    finally:
        runtime.close()
    assert "pantheon_job_runs_total" in text
    assert not [key for key in _samples(text) if key[0] == "pantheon_queue_depth"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_worker_serves_its_own_metrics(tmp_path: Path) -> None:
    port = _free_port()
    settings = _settings(tmp_path, worker_metrics_port=port, metrics_token="worker-scrape-tok")
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(settings,),
                              kwargs={"threads": 1, "tick_interval_s": 3600, "stop": stop},
                              daemon=True)
    worker.start()
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        response = None
        for _ in range(1200):  # until it listens (migrating the database comes first)
            try:
                response = httpx.get(url, headers={"Authorization": "Bearer worker-scrape-tok"})
                break
            except httpx.TransportError:
                stop.wait(0.05)
        assert response is not None and response.status_code == 200
        scraped = _samples(response.text)
        assert ("pantheon_job_failures_total", frozenset({("job", "rollup_usage")})) in scraped
        assert any(name == "pantheon_queue_depth" for name, _ in scraped)
        assert any(name == "process_cpu_seconds_total" for name, _ in scraped)
        assert httpx.get(url).status_code == 401
        assert httpx.get(url.replace("/metrics", "/other"),
                         headers={"Authorization": "Bearer worker-scrape-tok"}).status_code == 404
    finally:
        stop.set()
        worker.join(timeout=60)
    assert not worker.is_alive()
    with pytest.raises(httpx.TransportError):
        httpx.get(url, timeout=2)
