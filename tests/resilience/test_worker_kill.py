"""A worker killed with SIGKILL mid-job: the job is delivered again and its work done once.

``tests/integration/test_parse_jobs.py::test_a_parse_lost_with_its_worker_is_redelivered_and_finishes_once``
proves it for ``parse_file`` (an idempotent job: parsing again writes the same text). This
proves it for ``rollup_usage``, whose incremental run is *not* idempotent by itself: it adds
the usage recorded since the watermark W to the rollup rows and moves W, so a run that added
without moving W (or moved W without adding) and was then redone would count usage twice
(or never). The two writes share one transaction; a worker killed between them must leave
both undone, and the redelivered run must do both, once.

How the kill lands mid-job, every time (PostgreSQL + Redis, two real ``pantheon worker``
processes): the test holds a lock that blocks writes to ``usage_rollups_daily``. Worker A
takes the job, records its run, swaps W and blocks on its first rollup write; the test sees
its database session waiting on the lock, SIGKILLs A and lets the lock go. Worker B gets the
message again once A's heartbeat is overdue, marks A's run ``abandoned`` and rolls up.
Afterwards the rollups equal the raw usage, W moved once, and nothing ran a third time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import psycopg
import pytest

from pantheon_adapters.bootstrap import Container, Settings, build_container
from pantheon_core.actor import Actor
from pantheon_core.domain.jobs import PERIODIC_JOBS, ROLLUP_USAGE, JobRun, JobStatus
from pantheon_core.usecases.analytics import WATERMARK_KEY
from pantheon_core.usecases.catalog import UseCases
from pantheon_core.usecases.jobs import ABANDONED_ERROR
from pantheon_core.usecases.scheduler import KEY as SCHEDULER_KEY
from tests.fakes import FakeMailer
from tests.integration.job_helpers import queue_of, worker_env, worker_process
from tests.resilience.waiting import until
from tests.services import throwaway_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

HEARTBEAT_TIMEOUT_S = "2"  # as in test_parse_jobs: a dead worker's jobs come back in ~2 s
MAINTENANCE_CHANCE = "250000"
TEST_DEADLINE_S = 90
TOTALS = ("calls", "prompt_tokens", "completion_tokens", "credits")


@pytest.fixture
def postgres() -> Iterator[str]:
    with throwaway_postgres() as url:
        yield url


def api_settings(data_dir: Path, database_url: str, redis_url: str, namespace: str) -> Settings:
    """This process: queues jobs in Redis and runs none; the offline model answers turns."""
    return Settings(  # type: ignore[call-arg]
        data_dir=data_dir, database_url=database_url, auto_migrate=True, redis_url=redis_url,
        jobs_namespace=namespace, jobs_in_process=False, storage_backend="local",
        mail_backend="outbox", openrouter_api_key=None, llm_base_url=None,
        offline_word_delay_ms=0, rollup_lag_s=0, tavily_api_key=None)


async def chat(uc: UseCases, container: Container, actor: Actor, room_id: str,
               *questions: str) -> None:
    """Turns on the offline model, each with two metered calls."""
    for text in questions:
        await uc.send_to_room(actor, room_id, text)
        with anyio.fail_after(30):
            await container.tasks.wait_idle()


async def quiet_scheduler(uc: UseCases) -> None:
    """Push every periodic job's next run a day away: the workers schedule nothing of their
    own, so the only rollup is the one this test queues."""
    deps = uc.rollup_usage.deps
    later = (deps.clock.now() + timedelta(days=1)).isoformat()
    async with deps.uow() as uow:
        for name, _ in PERIODIC_JOBS:
            key = SCHEDULER_KEY.format(name=name)
            assert await uow.settings.swap(key, await uow.settings.get(key), later,
                                           now=deps.clock.now())
        await uow.commit()


async def watermark(uc: UseCases) -> str | None:
    async with uc.rollup_usage.deps.uow() as uow:
        return await uow.settings.get(WATERMARK_KEY)


def totals(url: str) -> dict[str, tuple[object, ...]]:
    """The raw usage and both rollups, summed the same way."""
    with psycopg.connect(url) as conn:
        raw = conn.execute("SELECT count(*), sum(prompt_tokens), sum(completion_tokens), "
                           "sum(credits_burned) FROM llm_call_events").fetchone()
        out = {"raw": tuple(raw or ())}
        for table in ("usage_rollups_daily", "usage_rollups_monthly"):
            row = conn.execute(f"SELECT {', '.join(f'sum({c})' for c in TOTALS)} "
                               f"FROM {table}").fetchone()
            out[table] = tuple(row or ())
    return out


@contextmanager
def rollup_writes_blocked(url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """Hold a lock that lets the rollup read but not write its daily rows."""
    with psycopg.connect(url) as conn:
        conn.execute("LOCK TABLE usage_rollups_daily IN SHARE ROW EXCLUSIVE MODE")
        try:
            yield conn
        finally:
            conn.rollback()


def sessions_waiting_on_locks(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND wait_event_type = 'Lock'").fetchone()
    return int(row[0]) if row else 0


async def rollup_runs(uc: UseCases, message_id: str) -> list[JobRun]:
    runs = await uc.list_job_runs(Actor.operator(), name=ROLLUP_USAGE, limit=500)
    return sorted((r for r in runs if r.message_id == message_id), key=lambda r: r.started_at)


async def test_a_rollup_lost_with_its_worker_is_redone_once(
        tmp_path: Path, postgres: str, redis_keyspace: tuple[str, str]) -> None:
    redis_url, prefix = redis_keyspace
    namespace = prefix.rstrip(":")
    env = worker_env(tmp_path, redis_url, namespace, database_url=postgres,
                     auto_migrate="false", rollup_lag_s="0",
                     worker_heartbeat_timeout_s=HEARTBEAT_TIMEOUT_S,
                     worker_maintenance_chance=MAINTENANCE_CHANCE)
    container = await build_container(api_settings(tmp_path, postgres, redis_url, namespace),
                                      mailer=FakeMailer())
    try:
        with anyio.fail_after(TEST_DEADLINE_S):
            uc = container.use_cases
            await quiet_scheduler(uc)
            ada = await uc.act_as(Actor.operator(), "ada@example.com")
            room = await uc.create_room(ada, name="Ledger", mode="roundtable")
            for name in ("Ana", "Bo"):
                await uc.add_agent(ada, room.id, name=name, model_alias="qwen")
            await chat(uc, container, ada, room.id, "First question?", "Second question?")
            await uc.rollup_usage()  # the first rollup sets W
            first = totals(postgres)
            assert first["raw"][0] == 4 and first["usage_rollups_daily"][0] == 4, first
            mark = await watermark(uc)
            await chat(uc, container, ada, room.id, "Third question?", "Fourth question?")

            with rollup_writes_blocked(postgres):
                message_id = await queue_of(container).enqueue(ROLLUP_USAGE, {})
                with worker_process(env, tmp_path / "worker-a.log", "--threads", "1") as a:
                    async def a_is_blocked_mid_rollup() -> bool:
                        runs = await rollup_runs(uc, message_id)
                        return bool(runs) and runs[-1].status is JobStatus.RUNNING \
                            and sessions_waiting_on_locks(postgres) > 0

                    await until(a_is_blocked_mid_rollup, what="worker A blocking mid-rollup")
                    a.kill()  # SIGKILL: no chance to finish, requeue or record anything
                    a.wait()
            # A's transaction died with it: neither W nor the rollups moved
            await until(lambda: _no_lock_waits(postgres), what="A's database session ending")
            assert await watermark(uc) == mark
            assert totals(postgres)["usage_rollups_daily"] == first["usage_rollups_daily"]
            [lost] = await rollup_runs(uc, message_id)
            assert lost.status is JobStatus.RUNNING

            log_b = tmp_path / "worker-b.log"
            with worker_process(env, log_b, "--threads", "1"):
                async def settled() -> bool:
                    runs = await rollup_runs(uc, message_id)
                    return bool(runs) and runs[-1].status is JobStatus.SUCCEEDED

                await until(settled, what="worker B redoing the rollup", timeout_s=45)
                runs = await rollup_runs(uc, message_id)
                await anyio.sleep(0.5)
                assert await rollup_runs(uc, message_id) == runs  # no third run

        assert [r.status for r in runs] == [JobStatus.ABANDONED, JobStatus.SUCCEEDED], \
            (runs, log_b.read_text())
        assert runs[0].id == lost.id and runs[0].error == ABANDONED_ERROR
        after = totals(postgres)
        assert after["raw"][0] == 8, after
        # every call counted once: the rollups are the raw usage, not more, not less
        assert after["usage_rollups_daily"] == after["raw"], after
        assert after["usage_rollups_monthly"] == after["raw"], after
        moved = await watermark(uc)
        assert moved is not None and mark is not None and moved > mark
        assert datetime.fromisoformat(moved) <= datetime.now(UTC)
    finally:
        await container.aclose()


async def _no_lock_waits(url: str) -> bool:
    return sessions_waiting_on_locks(url) == 0
