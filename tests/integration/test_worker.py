"""The worker: the job runtime bootstrap builds for it, run by a real Dramatiq worker on the
in-memory broker against the embedded SQLite database."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pantheon_adapters.bootstrap import Settings, build_container, build_job_runtime
from pantheon_adapters.jobs.dramatiq_jobs import HOUSEKEEPING_QUEUE, JobRuntime
from pantheon_core.actor import Actor
from pantheon_core.domain.jobs import PERIODIC_JOBS, PURGE_EXPIRED_CREDENTIALS, JobStatus
from pantheon_core.errors import Unauthenticated
from pantheon_worker.app import run_worker
from tests.fakes import FakeClock, FakeMailer


@dataclass
class Links:
    stale: str  # expired a month ago, never used
    fresh: str  # requested just now


async def seed_credentials(settings: Settings) -> Links:
    """A used link, an expired session and a stale link from a month ago; one fresh link."""
    mailer = FakeMailer()
    past = await build_container(settings, mailer=mailer,
                                 clock=FakeClock(datetime.now(UTC) - timedelta(days=31)))
    try:
        await past.use_cases.request_magic_link("old@example.com", client="test")
        await past.use_cases.verify_magic_link(mailer.last_link_token())  # 30-day session
        await past.use_cases.request_magic_link("old@example.com", client="test")
        stale = mailer.last_link_token()
    finally:
        await past.aclose()
    present = await build_container(settings, mailer=mailer)
    try:
        await present.use_cases.request_magic_link("new@example.com", client="test")
    finally:
        await present.aclose()
    return Links(stale=stale, fresh=mailer.last_link_token())


async def verify_code(settings: Settings, token: str) -> str:
    container = await build_container(settings, mailer=FakeMailer())
    try:
        await container.use_cases.verify_magic_link(token)
    except Unauthenticated as exc:
        return exc.code
    finally:
        await container.aclose()
    return "ok"


async def purge_now(settings: Settings) -> int:
    container = await build_container(settings, mailer=FakeMailer())
    try:
        return await container.use_cases.purge_expired_credentials()
    finally:
        await container.aclose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


async def job_runs(settings: Settings) -> list[tuple[str, str, JobStatus]]:
    container = await build_container(settings, mailer=FakeMailer())
    try:
        runs = await container.use_cases.list_job_runs(Actor.operator())
    finally:
        await container.aclose()
    return [(r.message_id, r.name, r.status) for r in runs]


@pytest.fixture
def runtime(settings: Settings) -> Iterator[JobRuntime]:
    runtime = build_job_runtime(settings)
    assert not runtime.uses_redis and not runtime.in_process  # the worker starts it itself
    runtime.start_worker(threads=1)
    try:
        yield runtime
    finally:
        runtime.close()


def test_the_purge_job_removes_expired_credentials(settings: Settings,
                                                   runtime: JobRuntime) -> None:
    links = asyncio.run(seed_credentials(settings))
    assert asyncio.run(verify_code(settings, links.stale)) == "magic_link_expired"

    message_id = runtime.send(PURGE_EXPIRED_CREDENTIALS, {})
    runtime.broker.join(HOUSEKEEPING_QUEUE, timeout=30_000, fail_fast=True)

    assert asyncio.run(job_runs(settings)) == [
        (message_id, PURGE_EXPIRED_CREDENTIALS, JobStatus.SUCCEEDED)]
    assert asyncio.run(purge_now(settings)) == 0  # the worker left nothing to purge
    assert asyncio.run(verify_code(settings, links.stale)) == "magic_link_invalid"  # gone
    assert asyncio.run(verify_code(settings, links.fresh)) == "ok"  # untouched


def test_run_worker_purges_at_start_and_stops_when_asked(
        settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    asyncio.run(seed_credentials(settings))
    stop = threading.Event()
    runner = threading.Thread(target=run_worker, args=(settings,),
                              kwargs={"threads": 1, "stop": stop})
    with caplog.at_level(logging.INFO, logger="pantheon"):
        runner.start()
        deadline = time.monotonic() + 30
        while not purged(caplog) and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        runner.join(timeout=30)

    assert not runner.is_alive()
    assert purged(caplog) == ["Purged 3 expired credentials"]
    runs = asyncio.run(job_runs(settings))
    purges = [(name, status) for _, name, status in runs if name == PURGE_EXPIRED_CREDENTIALS]
    assert purges == [(PURGE_EXPIRED_CREDENTIALS, JobStatus.SUCCEEDED)]
    # the scheduler enqueued every periodic job once, at start
    assert {name for _, name, _ in runs} <= {name for name, _ in PERIODIC_JOBS}
    assert "Worker stopped" in caplog.messages


def test_run_worker_migrates_a_fresh_embedded_database(
        settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    """The containers jobs run in do not migrate: the worker does, once, at start."""
    stop = threading.Event()
    runner = threading.Thread(target=run_worker, args=(settings,),
                              kwargs={"threads": 1, "stop": stop})
    with caplog.at_level(logging.INFO, logger="pantheon"):
        runner.start()
        deadline = time.monotonic() + 30
        while not purged(caplog) and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        runner.join(timeout=30)

    assert purged(caplog) == ["Purged 0 expired credentials"]
    purges = [status for _, name, status in asyncio.run(job_runs(settings))
              if name == PURGE_EXPIRED_CREDENTIALS]
    assert purges == [JobStatus.SUCCEEDED]


def purged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("Purged")]


def test_several_processes_need_redis(settings: Settings) -> None:
    with pytest.raises(ValueError, match="REDIS_URL"):
        run_worker(settings, processes=2)


def test_a_redis_url_selects_the_redis_broker(tmp_path: Path) -> None:
    runtime = build_job_runtime(Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:6379/15"))
    try:
        assert runtime.uses_redis and not runtime.in_process and not runtime.worker_running
    finally:
        runtime.close()
