"""Background jobs (FR-DATA-003, NFR-OBS-003): ``RunJob`` records every attempt; Dramatiq
delivers, retries and hands the attempt number over; the embedded default runs jobs on a
worker thread of the process that queued them; with Redis a ``pantheon worker`` process
consumes them. Every run is visible as a ``JobRun``.

The helpers (``wait_for_run``, ``worker_process``, in ``job_helpers``) are what a ``parse_file``
end-to-end test needs too: queue through the container's ``JobQueue``, wait for the run, read
the file.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import anyio
import pytest
from pydantic import ValidationError

from pantheon_adapters.bootstrap import Settings, build_container
from pantheon_adapters.jobs import dramatiq_jobs
from pantheon_adapters.jobs.dramatiq_jobs import (
    HOUSEKEEPING_QUEUE,
    JOBS_QUEUE,
    JobRuntime,
)
from pantheon_adapters.search.tavily import TavilyWebSearch
from pantheon_adapters.storage.local import LocalBlobStore
from pantheon_adapters.storage.s3 import S3BlobStore
from pantheon_core.actor import Actor, Role
from pantheon_core.domain.jobs import PARSE_FILE, PURGE_EXPIRED_CREDENTIALS, JobRun, JobStatus
from pantheon_core.errors import Forbidden, InvalidInput, NotFound, Unavailable
from pantheon_core.ids import JobRunId, UserId
from pantheon_core.usecases.catalog import UseCases
from pantheon_core.usecases.deps import Deps, FilePolicy
from pantheon_core.usecases.jobs import ABANDONED_ERROR, RetryJob
from tests.fakes import FakeApp, FakeJobQueue, FakeMailer, FakeUnitOfWork, Store, fake_app
from tests.integration.job_helpers import queue_of, wait_for_run, worker_process

RUNNING, SUCCEEDED, RETRYING, FAILED, ABANDONED = (
    JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.RETRYING, JobStatus.FAILED,
    JobStatus.ABANDONED)


# -- helpers ---------------------------------------------------------------------------------


class FlakyUnitOfWork(FakeUnitOfWork):
    """The fake unit of work, whose credential purge raises ``errors`` one by one first."""

    def __init__(self, store: Store, errors: list[Exception]) -> None:
        super().__init__(store)
        self._errors = errors

    async def __aenter__(self) -> FlakyUnitOfWork:
        await super().__aenter__()
        purge, errors = self.credentials.purge_expired, self._errors

        async def flaky(now):  # type: ignore[no-untyped-def]
            if errors:
                raise errors.pop(0)
            return await purge(now)

        self.credentials.purge_expired = flaky  # type: ignore[method-assign]
        return self


def deps_of(app: FakeApp) -> Deps:
    return app.uc.run_job.deps


def flaky_use_cases(app: FakeApp, errors: list[Exception]) -> UseCases:
    return UseCases.build(replace(deps_of(app), uow=lambda: FlakyUnitOfWork(app.store, errors)))


def runs_of(app: FakeApp, message_id: str | None = None) -> list[JobRun]:
    runs = [r for r in app.store.job_runs.values()
            if message_id is None or r.message_id == message_id]
    return sorted(runs, key=lambda r: (r.message_id, r.attempt, r.started_at))


def outline(runs: Sequence[JobRun]) -> list[tuple[int, JobStatus]]:
    return [(r.attempt, r.status) for r in runs]


@dataclass
class FakeHost:
    """What a runtime runs jobs in: here, use cases over the in-memory fakes."""

    use_cases: UseCases
    closed: bool = False

    async def aclose(self) -> None:
        self.closed = True


def fake_runtime(tmp_path: Path, use_cases: UseCases, **options: object) -> tuple[JobRuntime,
                                                                                 FakeHost]:
    host = FakeHost(use_cases)

    async def factory() -> FakeHost:
        return host

    runtime = JobRuntime(Settings(data_dir=tmp_path), factory, min_backoff_ms=10,
                         max_backoff_ms=40, **options)  # type: ignore[arg-type]
    return runtime, host


# -- RunJob, on the in-memory fakes ----------------------------------------------------------


async def test_a_job_that_succeeds_is_recorded_with_its_duration(app: FakeApp) -> None:
    await app.uc.run_job(PURGE_EXPIRED_CREDENTIALS, {}, message_id="m1", attempt=1,
                         final=False)

    [run] = runs_of(app)
    assert (run.name, run.message_id, run.attempt, run.status) == (
        PURGE_EXPIRED_CREDENTIALS, "m1", 1, SUCCEEDED)
    assert run.subject == "" and run.error is None
    assert run.duration_ms is not None and run.duration_ms >= 0
    assert run.finished_at is not None and run.finished_at >= run.started_at


async def test_a_transient_failure_is_recorded_as_retrying_and_asks_for_a_retry(
        app: FakeApp) -> None:
    cause = Unavailable("The database is restarting.", code="database_unavailable")
    uc = flaky_use_cases(app, [cause])

    with pytest.raises(RetryJob) as raised:
        await uc.run_job(PURGE_EXPIRED_CREDENTIALS, {}, message_id="m1", attempt=1,
                         final=False)
    assert raised.value.__cause__ is cause
    await uc.run_job(PURGE_EXPIRED_CREDENTIALS, {}, message_id="m1", attempt=2, final=False)

    runs = runs_of(app, "m1")
    assert outline(runs) == [(1, RETRYING), (2, SUCCEEDED)]
    assert runs[0].error == "database_unavailable: The database is restarting."
    assert runs[0].duration_ms is not None


async def test_the_last_attempt_fails_for_good_without_raising(app: FakeApp) -> None:
    uc = flaky_use_cases(app, [RuntimeError("boom")])

    await uc.run_job(PURGE_EXPIRED_CREDENTIALS, {}, message_id="m1", attempt=4, final=True)

    [run] = runs_of(app)
    assert (run.attempt, run.status, run.error) == (4, FAILED, "RuntimeError: boom")


@pytest.mark.parametrize("error", [
    InvalidInput("That is not a file we can read.", code="file_unreadable"),
    NotFound("No such thing.", code="thing_not_found"),
])
async def test_bad_input_or_a_missing_subject_fails_at_once(app: FakeApp,
                                                            error: Exception) -> None:
    uc = flaky_use_cases(app, [error])

    await uc.run_job(PURGE_EXPIRED_CREDENTIALS, {}, message_id="m1", attempt=1, final=False)

    [run] = runs_of(app)
    assert run.status is FAILED  # retrying cannot help: no RetryJob either
    assert run.error is not None and run.error.startswith(getattr(error, "code", ""))


async def test_a_new_attempt_marks_the_running_ones_of_its_message_abandoned(
        app: FakeApp) -> None:
    """A redelivery means the process running the earlier attempt died."""
    started = app.clock.now()
    for run_id, message_id in (("dead", "m1"), ("elsewhere", "m2")):
        app.store.job_runs[JobRunId(run_id)] = JobRun(
            id=JobRunId(run_id), name=PURGE_EXPIRED_CREDENTIALS, message_id=message_id,
            attempt=1, status=RUNNING, started_at=started)
    app.clock.advance(minutes=5)

    await app.uc.run_job(PURGE_EXPIRED_CREDENTIALS, {}, message_id="m1", attempt=2,
                         final=False)

    runs = runs_of(app, "m1")
    assert outline(runs) == [(1, ABANDONED), (2, SUCCEEDED)]
    assert runs[0].error == ABANDONED_ERROR
    assert runs[0].duration_ms == 5 * 60 * 1000
    assert runs[0].finished_at == app.clock.now()
    assert app.store.job_runs[JobRunId("elsewhere")].status is RUNNING  # another message


async def test_an_unknown_job_fails_with_a_clear_error(app: FakeApp) -> None:
    await app.uc.run_job("reticulate_splines", {"file_id": "f1"}, message_id="m1", attempt=1,
                         final=False)

    [run] = runs_of(app)
    assert (run.name, run.status, run.subject) == ("reticulate_splines", FAILED, "f1")
    assert run.error is not None and run.error.startswith("unknown_job: Unknown job")
    assert PARSE_FILE in run.error and PURGE_EXPIRED_CREDENTIALS in run.error


async def test_a_parse_job_is_about_its_file(tmp_path: Path) -> None:
    app = fake_app(blobs=LocalBlobStore(tmp_path))
    await app.uc.run_job(PARSE_FILE, {"file_id": "gone"}, message_id="m1", attempt=1,
                         final=False)  # no such file: parsing it is a no-op
    await app.uc.run_job(PARSE_FILE, {}, message_id="m2", attempt=1, final=False)

    first, second = runs_of(app)
    assert (first.subject, first.status) == ("gone", SUCCEEDED)
    assert (second.status, second.error) == (FAILED, "invalid_job: A parse_file job needs "
                                                     "a file_id.")


async def test_job_runs_are_listed_for_admins_newest_first(app: FakeApp) -> None:
    await app.uc.run_job(PURGE_EXPIRED_CREDENTIALS, {}, message_id="m1", attempt=1,
                         final=False)
    app.clock.advance(seconds=1)
    await app.uc.run_job("nope", {}, message_id="m2", attempt=1, final=False)
    owner = Actor(UserId("u1"), frozenset({Role.OWNER}))
    analyst = Actor(UserId("u2"), frozenset({Role.ANALYST}))

    assert [r.message_id for r in await app.uc.list_job_runs(owner)] == ["m2", "m1"]
    assert [r.message_id for r in await app.uc.list_job_runs(analyst, status="failed")] == [
        "m2"]
    assert [r.message_id for r in await app.uc.list_job_runs(
        Actor.operator(), name=PURGE_EXPIRED_CREDENTIALS)] == ["m1"]
    assert len(await app.uc.list_job_runs(owner, limit=1)) == 1
    with pytest.raises(Forbidden):
        await app.uc.list_job_runs(Actor(UserId("u3")))
    with pytest.raises(InvalidInput) as bad_status:
        await app.uc.list_job_runs(owner, status="exploded")
    assert bad_status.value.code == "invalid_job_status"
    with pytest.raises(InvalidInput) as bad_name:
        await app.uc.list_job_runs(owner, name="nope")
    assert bad_name.value.code == "unknown_job"
    with pytest.raises(InvalidInput):
        await app.uc.list_job_runs(owner, limit=0)


async def test_the_fake_queue_runs_what_was_queued_and_retries(app: FakeApp) -> None:
    queue = FakeJobQueue()
    uc = flaky_use_cases(app, [Unavailable("hiccup")])
    message_id = await queue.enqueue(PURGE_EXPIRED_CREDENTIALS, {})

    assert await queue.run_all(uc) == 1
    assert await queue.run_all(uc) == 0  # nothing new

    assert [j.name for j in queue.enqueued] == [PURGE_EXPIRED_CREDENTIALS]
    assert outline(runs_of(app, message_id)) == [(1, RETRYING), (2, SUCCEEDED)]


# -- the Dramatiq runtime, on the in-memory broker -------------------------------------------


def test_each_job_has_its_queue_and_retry_budget(tmp_path: Path) -> None:
    runtime, _ = fake_runtime(tmp_path, fake_app().uc,
                              files=FilePolicy(parse_max_attempts=5))
    try:
        parse, purge = runtime.specs[PARSE_FILE], runtime.specs[PURGE_EXPIRED_CREDENTIALS]
        assert (parse.queue, parse.max_retries, parse.max_attempts) == (JOBS_QUEUE, 4, 5)
        assert (purge.queue, purge.max_retries) == (HOUSEKEEPING_QUEUE, 3)
        assert runtime.actors[PARSE_FILE].options["max_retries"] == 4
        with pytest.raises(InvalidInput) as unknown:
            runtime.send("nope", {})
        assert unknown.value.code == "unknown_job"
    finally:
        runtime.close()


def test_dramatiq_retries_with_the_attempt_number_until_the_job_succeeds(
        tmp_path: Path) -> None:
    app = fake_app()
    runtime, host = fake_runtime(tmp_path, flaky_use_cases(app, [Unavailable("hiccup")] * 2))
    runtime.start_worker(threads=1)
    try:
        message_id = runtime.send(PURGE_EXPIRED_CREDENTIALS, {})
        runtime.broker.join(HOUSEKEEPING_QUEUE, timeout=30_000, fail_fast=True)
    finally:
        runtime.close()

    assert outline(runs_of(app, message_id)) == [(1, RETRYING), (2, RETRYING), (3, SUCCEEDED)]
    assert host.closed  # the worker's shutdown closed the container jobs ran in


def test_the_last_attempt_is_final_and_ends_the_message(tmp_path: Path) -> None:
    app = fake_app()
    runtime, _ = fake_runtime(tmp_path, flaky_use_cases(app, [RuntimeError("down")] * 10))
    runtime.start_worker(threads=1)
    try:
        message_id = runtime.send(PURGE_EXPIRED_CREDENTIALS, {})
        # fail_fast: nothing was dead-lettered, the final attempt recorded its failure
        runtime.broker.join(HOUSEKEEPING_QUEUE, timeout=30_000, fail_fast=True)
    finally:
        runtime.close()

    assert outline(runs_of(app, message_id)) == [
        (1, RETRYING), (2, RETRYING), (3, RETRYING), (4, FAILED)]


def test_closing_an_in_process_runtime_runs_what_is_queued_first(tmp_path: Path) -> None:
    app = fake_app()
    runtime, host = fake_runtime(tmp_path, app.uc, in_process=True)
    assert not runtime.worker_running
    message_ids = [runtime.send(PURGE_EXPIRED_CREDENTIALS, {}) for _ in range(5)]
    assert runtime.worker_running  # started by the first send

    runtime.close()

    assert {r.message_id: r.status for r in runs_of(app)} == dict.fromkeys(message_ids,
                                                                             SUCCEEDED)
    assert host.closed and not runtime.worker_running
    with pytest.raises(Unavailable) as closed:
        runtime.send(PURGE_EXPIRED_CREDENTIALS, {})
    assert closed.value.code == "jobs_unavailable"


def test_two_workers_in_one_process_share_the_event_loop(tmp_path: Path) -> None:
    first_app, second_app = fake_app(), fake_app()
    first, first_host = fake_runtime(tmp_path, first_app.uc, in_process=True)
    second, second_host = fake_runtime(tmp_path, second_app.uc, in_process=True)
    try:
        first.send(PURGE_EXPIRED_CREDENTIALS, {})
        second.send(PURGE_EXPIRED_CREDENTIALS, {})
        first.close()  # must not stop the loop the second one runs on
        assert first_host.closed and not second_host.closed
        message_id = second.send(PURGE_EXPIRED_CREDENTIALS, {})
        second.broker.join(HOUSEKEEPING_QUEUE, timeout=30_000, fail_fast=True)
        assert runs_of(second_app, message_id)[-1].status is SUCCEEDED
    finally:
        second.close()
    assert dramatiq_jobs.get_event_loop_thread() is None  # the last one out stopped it


async def test_a_broker_that_is_down_is_jobs_unavailable(tmp_path: Path) -> None:
    async def no_host() -> FakeHost:
        raise AssertionError("nothing runs here")

    down = JobRuntime(Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0"), no_host)
    try:
        with pytest.raises(Unavailable) as raised:
            await down.queue().enqueue(PURGE_EXPIRED_CREDENTIALS, {})
        assert raised.value.code == "jobs_unavailable"
    finally:
        await anyio.to_thread.run_sync(down.close)


# -- the embedded default: bootstrap, SQLite, a worker thread in this process ----------------


async def test_the_embedded_default_runs_a_queued_job_in_process(tmp_path: Path) -> None:
    container = await build_container(Settings(data_dir=tmp_path), mailer=FakeMailer())
    try:
        runtime = container.jobs_runtime
        assert runtime is not None and not runtime.uses_redis and runtime.in_process
        assert not runtime.worker_running  # nothing queued yet: no thread either

        message_id = await queue_of(container).enqueue(PURGE_EXPIRED_CREDENTIALS, {})

        assert runtime.worker_running
        run = await wait_for_run(container.use_cases, message_id)
        assert (run.name, run.attempt, run.status) == (PURGE_EXPIRED_CREDENTIALS, 1, SUCCEEDED)
        assert run.duration_ms is not None
    finally:
        await container.aclose()
    assert not runtime.worker_running and container.jobs_runtime is None
    assert dramatiq_jobs.get_event_loop_thread() is None


async def test_without_redis_or_an_in_process_worker_jobs_run_inline(tmp_path: Path) -> None:
    container = await build_container(Settings(data_dir=tmp_path, jobs_in_process=False),
                                      mailer=FakeMailer())
    try:
        assert container.jobs_runtime is None
        assert container.use_cases.run_job.deps.jobs is None  # parse_file runs inline
    finally:
        await container.aclose()


async def test_a_given_queue_is_used_as_is(tmp_path: Path) -> None:
    queue = FakeJobQueue()
    container = await build_container(Settings(data_dir=tmp_path), mailer=FakeMailer(),
                                      jobs=queue)
    try:
        assert container.jobs_runtime is None
        assert container.use_cases.run_job.deps.jobs is queue
    finally:
        await container.aclose()


# -- wiring of the file, search and signing settings -----------------------------------------


async def test_the_container_wires_files_storage_search_and_the_parser(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, public_url="https://pantheon.example/",
                        upload_ttl_minutes=7)
    container = await build_container(settings, mailer=FakeMailer())
    again = await build_container(settings, mailer=FakeMailer())
    try:
        deps = container.use_cases.run_job.deps
        assert deps.files.url_base == "https://pantheon.example/api/v1"
        assert deps.files.upload_ttl == timedelta(minutes=7)
        secret_file = tmp_path / "secret_key"
        assert deps.files.signing_secret == secret_file.read_text().strip()
        assert len(deps.files.signing_secret) >= 32
        assert secret_file.stat().st_mode & 0o777 == 0o600
        assert again.use_cases.run_job.deps.files.signing_secret == deps.files.signing_secret
        assert isinstance(deps.blobs, LocalBlobStore)
        assert deps.search is None  # no Tavily key: web_search says search_not_configured
        assert deps.documents is not None
        assert (await container.readiness())["storage"] == "ok"
        assert (tmp_path / "files").is_dir()  # the readiness check made the store's root
    finally:
        await again.aclose()
        await container.aclose()


async def test_keys_and_buckets_select_tavily_and_s3(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, tavily_api_key="tvly-test", s3_bucket="pantheon",
                        s3_endpoint_url="http://127.0.0.1:9", s3_access_key_id="key",
                        s3_secret_access_key="secret", secret_key="a-configured-secret-key")
    container = await build_container(settings, mailer=FakeMailer())
    try:
        deps = container.use_cases.run_job.deps
        assert isinstance(deps.search, TavilyWebSearch)
        assert isinstance(deps.blobs, S3BlobStore)
        assert deps.files.signing_secret == "a-configured-secret-key"
        assert not (tmp_path / "secret_key").exists()
    finally:
        await container.aclose()


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    https = "https://pantheon.example.com"  # production is HTTPS-only (docs/security.md)
    with pytest.raises(ValidationError, match="PANTHEON_SECRET_KEY is required"):
        Settings(data_dir=tmp_path, env="production", public_url=https)
    with pytest.raises(ValidationError, match="at least 16"):
        Settings(data_dir=tmp_path, secret_key="short")
    assert Settings(data_dir=tmp_path, env="production", public_url=https,
                    secret_key="x" * 32).signing_secret() == "x" * 32


def test_s3_storage_needs_its_bucket_and_keys(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="PANTHEON_S3_ACCESS_KEY_ID"):
        Settings(data_dir=tmp_path, s3_bucket="pantheon")
    with pytest.raises(ValidationError, match="PANTHEON_S3_BUCKET"):
        Settings(data_dir=tmp_path, storage_backend="s3")
    assert Settings(data_dir=tmp_path).effective_storage_backend == "local"
    assert Settings(data_dir=tmp_path).effective_storage_dir == tmp_path / "files"


# -- Redis: a real `pantheon worker` process consumes what this process queued ---------------


@pytest.mark.redis
async def test_a_worker_process_consumes_jobs_queued_in_redis(
        tmp_path: Path, redis_keyspace: tuple[str, str]) -> None:
    url, prefix = redis_keyspace
    namespace = prefix.rstrip(":")
    settings = Settings(data_dir=tmp_path, redis_url=url, jobs_namespace=namespace)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PANTHEON_")}
    env.update(PANTHEON_DATA_DIR=str(tmp_path), PANTHEON_REDIS_URL=url,
               PANTHEON_JOBS_NAMESPACE=namespace, PANTHEON_LOG_LEVEL="INFO")
    log = tmp_path / "worker.log"
    container = await build_container(settings, mailer=FakeMailer())  # migrates the database
    try:
        runtime = container.jobs_runtime
        assert runtime is not None and runtime.uses_redis and not runtime.in_process
        # queued before any worker runs: the jobs wait in Redis
        queued = [await queue_of(container).enqueue(PURGE_EXPIRED_CREDENTIALS, {})
                  for _ in range(3)]

        with worker_process(env, log, "--processes", "2", "--threads", "1") as process:
            for message_id in queued:
                run = await wait_for_run(container.use_cases, message_id)
                assert (run.status, run.attempt) == (SUCCEEDED, 1), log.read_text()
            # and the worker queued its own periodic purge at start
            deadline = time.monotonic() + 30
            while len(await container.use_cases.list_job_runs(
                    Actor.operator(), name=PURGE_EXPIRED_CREDENTIALS)) < 4:
                assert time.monotonic() < deadline, log.read_text()
                await anyio.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            code = await anyio.to_thread.run_sync(lambda: process.wait(timeout=60))
        assert code == 0, log.read_text()
        assert "Worker stopped" in log.read_text()
    finally:
        await container.aclose()
