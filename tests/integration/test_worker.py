"""The worker's actors, run by a real Dramatiq worker on the in-memory broker against the
embedded SQLite database that bootstrap builds."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from pantheon_adapters.bootstrap import Settings, build_container
from pantheon_core.errors import Unauthenticated
from pantheon_worker.app import build_broker, build_worker_app, run_worker
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


@pytest.fixture
def worker_app(settings: Settings) -> Iterator[tuple[StubBroker, dramatiq.Actor[[], None]]]:
    app = build_worker_app(settings)
    assert isinstance(app.broker, StubBroker)  # no redis_url: the in-memory broker
    worker = dramatiq.Worker(app.broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        yield app.broker, app.purge_expired_credentials
    finally:
        worker.stop()
        app.broker.close()


def test_purge_actor_removes_expired_credentials(
        settings: Settings, worker_app: tuple[StubBroker, dramatiq.Actor[[], None]]) -> None:
    broker, purge = worker_app
    links = asyncio.run(seed_credentials(settings))
    assert asyncio.run(verify_code(settings, links.stale)) == "magic_link_expired"

    purge.send()
    broker.join(purge.queue_name, timeout=30_000, fail_fast=True)

    assert asyncio.run(purge_now(settings)) == 0  # the worker left nothing to purge
    assert asyncio.run(verify_code(settings, links.stale)) == "magic_link_invalid"  # gone
    assert asyncio.run(verify_code(settings, links.fresh)) == "ok"  # untouched


def test_run_worker_purges_at_start_and_stops_when_asked(
        settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    asyncio.run(seed_credentials(settings))
    stop = threading.Event()
    runner = threading.Thread(target=run_worker, args=(settings,),
                              kwargs={"threads": 1, "stop": stop})
    with caplog.at_level(logging.INFO, logger="pantheon.worker"):
        runner.start()
        deadline = time.monotonic() + 30
        while not purged(caplog) and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        runner.join(timeout=30)

    assert not runner.is_alive()
    assert purged(caplog) == ["Purged 3 expired credentials"]


def purged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("Purged")]


def test_several_processes_need_redis(settings: Settings) -> None:
    with pytest.raises(ValueError, match="REDIS_URL"):
        run_worker(settings, processes=2)


def test_a_redis_url_selects_the_redis_broker() -> None:
    broker = build_broker(Settings(redis_url="redis://127.0.0.1:6379/15"))
    try:
        assert isinstance(broker, RedisBroker)
    finally:
        broker.close()
