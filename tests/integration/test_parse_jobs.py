"""``parse_file`` end to end (FR-TOOL-003/004, FR-DATA-003): real documents uploaded through
the use cases on a real container are parsed by a job, and an agent reads what came out.

- Embedded default (no Redis): the job runs on the container's in-process worker thread.
- Redis: the API side only queues; a real ``pantheon worker`` process parses. A worker killed
  mid-parse loses nothing: once its heartbeat is overdue another worker's broker requeues the
  message, the first run is marked ``abandoned`` and the file ends ``ready`` exactly once.
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from pantheon_adapters.bootstrap import Container, Settings, build_container
from pantheon_core.actor import Actor
from pantheon_core.domain.files import FileStatus, StoredFile
from pantheon_core.domain.jobs import PARSE_FILE, JobRun, JobStatus
from pantheon_core.domain.rooms import Room
from pantheon_core.domain.turns import TurnStatus
from pantheon_core.ports.documents import ParseLimits
from pantheon_core.usecases.catalog import UseCases
from pantheon_core.usecases.conversation import TurnView
from pantheon_core.usecases.jobs import ABANDONED_ERROR
from tests.documents import make_csv, make_docx, make_encrypted_pdf, make_pdf
from tests.fakes import FakeMailer
from tests.integration.job_helpers import worker_env, worker_process

READY, FAILED, UPLOADED, PARSING = (FileStatus.READY, FileStatus.FAILED, FileStatus.UPLOADED,
                                    FileStatus.PARSING)
RUNNING, SUCCEEDED, ABANDONED = JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.ABANDONED
EMAIL = "ada@example.com"
CHUNK_BYTES = 64 * 1024

# A worker killed mid-job is presumed dead after this long without a heartbeat; every Redis
# command a worker sends then has this chance in a million of requeueing its jobs. Dramatiq's
# defaults (60 s, 1000) would take minutes; these take a second or two.
HEARTBEAT_TIMEOUT_S = "2"
MAINTENANCE_CHANCE = "250000"

REPORT_PAGES = (
    "Acme Corp quarterly report 2024\nPrepared by the finance team.",
    "Results\nRevenue in Q3 was 42 million euros.\nCosts stayed flat at 30 million euros.",
    "Outlook\nWe expect growth to continue in Q4.",
)
REVENUE_LINE = "Revenue in Q3 was 42 million euros."
NOTES_ROWS = (("quarter", "note"), ("Q1", "Launch of the new product line"),
              ("Q2", "Twelve engineers hired"), ("Q3", "Revenue reached 42 million euros"))
NOTES_LINE = "Q3 | Revenue reached 42 million euros"


# -- helpers ---------------------------------------------------------------------------------


def embedded_settings(data_dir: Path, **overrides: object) -> Settings:
    """The embedded defaults on ``data_dir``, never the caller's environment."""
    values: dict[str, object] = dict(
        data_dir=data_dir, database_url=None, redis_url=None, jobs_in_process=None,
        storage_backend="local", storage_dir=None, s3_bucket=None, tavily_api_key=None,
        openrouter_api_key=None, llm_base_url=None, mail_backend="outbox",
        offline_word_delay_ms=0)
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Container]:
    container = await build_container(settings, mailer=FakeMailer())
    try:
        yield container
    finally:
        await container.aclose()


async def owner_and_room(uc: UseCases, *, mode: str | None = None) -> tuple[Actor, Room]:
    actor = await uc.act_as(Actor.operator(), EMAIL)
    return actor, await uc.create_room(actor, name="Finance", mode=mode)


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), CHUNK_BYTES):
        yield data[start:start + CHUNK_BYTES]


async def upload(uc: UseCases, actor: Actor, room: Room, filename: str,
                 data: bytes) -> StoredFile:
    """What a client does: ask for an upload ticket, then send the bytes to it."""
    ticket = await uc.request_upload(actor, room_id=room.id, filename=filename,
                                     size_bytes=len(data))
    return await uc.finish_upload(ticket.token, chunks(data))


async def wait_parsed(uc: UseCases, actor: Actor, file_id: str, *,
                      timeout_s: float = 60) -> StoredFile:
    """The file once its parse has finished (``ready`` or ``failed``)."""
    return await wait_file(uc, actor, file_id, (READY, FAILED), timeout_s=timeout_s)


async def wait_file(uc: UseCases, actor: Actor, file_id: str, statuses: Sequence[FileStatus],
                    *, timeout_s: float) -> StoredFile:
    deadline = time.monotonic() + timeout_s
    while True:
        file = await uc.get_file(actor, file_id)
        if file.status in statuses:
            return file
        if time.monotonic() > deadline:
            raise AssertionError(f"file {file_id} is still {file.status} after {timeout_s}s")
        await anyio.sleep(0.05)


async def parse_runs(uc: UseCases, file_id: str) -> list[JobRun]:
    """The ``parse_file`` runs about one file, oldest first."""
    runs = await uc.list_job_runs(Actor.operator(), name=PARSE_FILE, limit=500)
    return sorted((r for r in runs if r.subject == file_id), key=lambda r: r.started_at)


async def settled_runs(uc: UseCases, file_id: str, *, timeout_s: float = 30) -> list[JobRun]:
    """The file's parse runs once the latest has finished for good (a run is finished just
    after the file it parsed is saved; ``retrying`` means another attempt is coming)."""
    deadline = time.monotonic() + timeout_s
    while True:
        runs = await parse_runs(uc, file_id)
        if runs and runs[-1].status not in (RUNNING, JobStatus.RETRYING):
            return runs
        if time.monotonic() > deadline:
            raise AssertionError(f"the parse runs of {file_id} did not settle: {runs}")
        await anyio.sleep(0.05)


async def wait_for(condition: Callable[[], Awaitable[bool]], *, timeout_s: float,
                   what: str) -> None:
    """Poll ``condition`` until it holds."""
    deadline = time.monotonic() + timeout_s
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s}s")
        await anyio.sleep(0.05)


async def extracted_text(container: Container, file: StoredFile) -> str:
    blobs = container.use_cases.run_job.deps.blobs
    assert blobs is not None and file.text_key is not None
    return (await blobs.read(file.text_key, max_bytes=file.text_chars * 4 + 16)).decode()


async def finished_turn(uc: UseCases, actor: Actor, turn_id: str, *,
                        timeout_s: float = 30) -> TurnView:
    deadline = time.monotonic() + timeout_s
    while True:
        view = await uc.get_turn(actor, turn_id)
        if view.turn.status is not TurnStatus.RUNNING:
            return view
        if time.monotonic() > deadline:
            raise AssertionError(f"turn {turn_id} still running after {timeout_s}s")
        await anyio.sleep(0.05)


@functools.cache
def slow_pdf() -> bytes:
    """A PDF whose parse takes seconds (≈3 s here): 480 pages of 50 lines each, under the
    default limits (500 pages, 2 million characters, 30 s)."""
    line = "line {n} of page {p}: the quick brown fox jumps over the lazy dog"
    return make_pdf(["\n".join(line.format(n=n, p=p) for n in range(50))
                     for p in range(1, 481)])


# -- the embedded default: the container's own worker thread parses ---------------------------


async def test_documents_are_parsed_by_the_embedded_worker(tmp_path: Path) -> None:
    async with running(embedded_settings(tmp_path)) as container:
        runtime = container.jobs_runtime
        assert runtime is not None and not runtime.uses_redis and runtime.in_process
        uc = container.use_cases
        actor, room = await owner_and_room(uc)
        documents = {
            "report.pdf": make_pdf(REPORT_PAGES),
            "minutes.docx": make_docx(["Board minutes", "The board approved the budget."],
                                      table=[["Quarter", "Revenue"], ["Q3", "42"]],
                                      after=["Meeting closed."]),
            "notes.csv": make_csv(NOTES_ROWS),
        }
        uploaded = {name: await upload(uc, actor, room, name, data)
                    for name, data in documents.items()}
        assert runtime.worker_running  # started by the first parse job

        files = {name: await wait_parsed(uc, actor, file.id) for name, file in uploaded.items()}

        for name, file in files.items():
            assert file.status is READY, (name, file.error_code, file.error_message)
            assert file.text_chars > 0 and file.parse_attempts == 1, file
        assert files["report.pdf"].pages == 3
        pdf_text = await extracted_text(container, files["report.pdf"])
        assert REVENUE_LINE in pdf_text and "Acme Corp" in pdf_text
        docx_text = await extracted_text(container, files["minutes.docx"])
        for expected in ("Board minutes", "Quarter", "Revenue", "Q3", "42", "Meeting closed."):
            assert expected in docx_text, docx_text
        assert NOTES_LINE in await extracted_text(container, files["notes.csv"])
        for file in files.values():
            [run] = await settled_runs(uc, file.id)
            assert (run.status, run.attempt, run.error) == (SUCCEEDED, 1, None), run
            assert run.duration_ms is not None


@pytest.mark.parametrize(("filename", "data", "code", "reason"), [
    # passes the sniffing (a real PDF) but breaks ParseLimits.max_pages (no setting for
    # the limits: this is the default of 500)
    ("huge.pdf", make_pdf([f"Page {i}" for i in range(1, ParseLimits().max_pages + 2)]),
     "unsafe_file", f"the PDF has {ParseLimits().max_pages + 1} pages"),
    ("locked.pdf", make_encrypted_pdf(["Secret plans"]), "file_unreadable",
     "encrypted with a password"),
], ids=["too-many-pages", "encrypted"])
async def test_a_file_that_cannot_be_parsed_fails_once_with_its_reason(
        tmp_path: Path, filename: str, data: bytes, code: str, reason: str) -> None:
    async with running(embedded_settings(tmp_path)) as container:
        uc = container.use_cases
        actor, room = await owner_and_room(uc)
        uploaded = await upload(uc, actor, room, filename, data)

        file = await wait_parsed(uc, actor, uploaded.id)

        assert (file.status, file.error_code) == (FAILED, code), file
        assert file.error_message is not None and reason in file.error_message
        assert (file.parse_attempts, file.text_key, file.text_chars) == (1, None, 0)
        # one run, failed and not retried: bad content is not tried again
        [run] = await settled_runs(uc, file.id)
        assert run.attempt == 1 and run.status is JobStatus.FAILED, run


async def test_a_failed_parse_is_a_failed_job_run(tmp_path: Path) -> None:
    async with running(embedded_settings(tmp_path)) as container:
        uc = container.use_cases
        actor, room = await owner_and_room(uc)
        uploaded = await upload(uc, actor, room, "locked.pdf", make_encrypted_pdf(["x"]))
        assert (await wait_parsed(uc, actor, uploaded.id)).status is FAILED

        [run] = await settled_runs(uc, uploaded.id)

        assert run.status is JobStatus.FAILED, run
        assert run.error is not None and run.error.startswith("file_unreadable")


async def test_an_agent_answers_from_a_parsed_file(tmp_path: Path) -> None:
    async with running(embedded_settings(tmp_path)) as container:
        uc = container.use_cases
        actor, room = await owner_and_room(uc, mode="manual")
        await uc.add_agent(actor, room.id, name="Reader", model_alias="qwen", files=True)
        report = await upload(uc, actor, room, "report.pdf", make_pdf(REPORT_PAGES))
        notes = await upload(uc, actor, room, "notes.csv", make_csv(NOTES_ROWS))
        for file in (report, notes):
            assert (await wait_parsed(uc, actor, file.id)).status is READY

        turn = await uc.send_to_room(actor, room.id, "@Reader what was the revenue in Q3?")
        view = await finished_turn(uc, actor, turn.id)

        assert view.turn.status is TurnStatus.COMPLETED, view.timeline.to_dict()
        [step] = view.timeline.to_dict()["steps"]
        assert (step["agent_name"], step["status"]) == ("Reader", "ok"), step
        reads = [(c["tool"], c["status"]) for c in step["tool_calls"]]
        assert reads == [("read_file", "allowed")] * 2, step["tool_calls"]
        arguments = " ".join(c["arguments"] for c in step["tool_calls"])
        assert report.id in arguments and notes.id in arguments
        content = step["content"]
        assert REVENUE_LINE in content and NOTES_LINE in content, content
        assert "Costs stayed flat" not in content  # only the relevant lines are quoted


# -- Redis: the API side queues, `pantheon worker` processes parse ---------------------------


def redis_settings(data_dir: Path, url: str, namespace: str) -> Settings:
    """The API side: sends jobs to Redis and runs none itself."""
    return embedded_settings(data_dir, redis_url=url, jobs_namespace=namespace,
                             jobs_in_process=False)


@pytest.mark.redis
async def test_a_worker_process_parses_what_the_api_side_uploaded(
        tmp_path: Path, redis_keyspace: tuple[str, str]) -> None:
    url, prefix = redis_keyspace
    namespace = prefix.rstrip(":")
    log = tmp_path / "worker.log"
    async with running(redis_settings(tmp_path, url, namespace)) as container:
        runtime = container.jobs_runtime
        assert runtime is not None and runtime.uses_redis and not runtime.in_process
        uc = container.use_cases
        actor, room = await owner_and_room(uc)
        uploaded = await upload(uc, actor, room, "report.pdf", make_pdf(REPORT_PAGES))
        await anyio.sleep(0.3)
        assert (await uc.get_file(actor, uploaded.id)).status is UPLOADED  # waits in Redis
        assert not runtime.worker_running

        with worker_process(worker_env(tmp_path, url, namespace), log, "--threads", "2"):
            file = await wait_parsed(uc, actor, uploaded.id, timeout_s=30)
            assert (file.status, file.pages, file.parse_attempts) == (READY, 3, 1), (
                file, log.read_text())
            assert file.text_chars > 0
            [run] = await settled_runs(uc, file.id)
        assert (run.status, run.attempt) == (SUCCEEDED, 1), log.read_text()
        assert REVENUE_LINE in await extracted_text(container, file)


@pytest.mark.redis
async def test_a_parse_lost_with_its_worker_is_redelivered_and_finishes_once(
        tmp_path: Path, redis_keyspace: tuple[str, str]) -> None:
    url, prefix = redis_keyspace
    namespace = prefix.rstrip(":")
    env = worker_env(tmp_path, url, namespace,
                     worker_heartbeat_timeout_s=HEARTBEAT_TIMEOUT_S,
                     worker_maintenance_chance=MAINTENANCE_CHANCE)
    data = slow_pdf()
    async with running(redis_settings(tmp_path, url, namespace)) as container:
        uc = container.use_cases
        actor, room = await owner_and_room(uc)
        uploaded = await upload(uc, actor, room, "big.pdf", data)

        with worker_process(env, tmp_path / "worker-a.log", "--threads", "1") as worker_a:
            async def a_is_parsing() -> bool:
                runs = await parse_runs(uc, uploaded.id)
                file = await uc.get_file(actor, uploaded.id)
                return bool(runs) and runs[-1].status is RUNNING and file.status is PARSING

            await wait_for(a_is_parsing, timeout_s=20, what="worker A starting the parse")
            worker_a.kill()  # SIGKILL: no chance to requeue or record anything
            worker_a.wait()
        # the kill caught the parse midway (else this test would prove nothing)
        [lost] = await parse_runs(uc, uploaded.id)
        assert lost.status is RUNNING
        assert (await uc.get_file(actor, uploaded.id)).status is PARSING

        log_b = tmp_path / "worker-b.log"
        with worker_process(env, log_b, "--threads", "1"):
            file = await wait_parsed(uc, actor, uploaded.id, timeout_s=45)
            runs = await settled_runs(uc, uploaded.id)

        assert file.status is READY, (file, log_b.read_text())
        assert file.parse_attempts >= 2 and file.pages == 480 and file.text_chars > 0
        assert [r.status for r in runs] == [ABANDONED, SUCCEEDED], runs
        abandoned, succeeded = runs
        assert abandoned.id == lost.id and abandoned.error == ABANDONED_ERROR
        assert succeeded.message_id == lost.message_id  # the same message, delivered again
        await anyio.sleep(0.5)
        assert await parse_runs(uc, uploaded.id) == runs  # and nothing ran it a third time
