"""The contract of the file, job-run and tool-usage repositories, run on the fake, SQLite
and PostgreSQL.

Every field comes back as it went in: money as the same ``Decimal``, page offsets as a
tuple, timestamps timezone-aware. Listings keep their documented order, soft-deleted files
stay out of listings and quotas, and ``lock_scope`` serialises quota checks of one scope.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import anyio
import pytest

from pantheon_core.domain.files import (
    FileKind,
    FileScope,
    FileStatus,
    StoredFile,
    blob_key_for,
    text_key_for,
)
from pantheon_core.domain.jobs import PARSE_FILE, PURGE_EXPIRED_CREDENTIALS, JobRun, JobStatus
from pantheon_core.domain.sessions import DirectSession
from pantheon_core.domain.tools import (
    READ_FILE,
    WEB_SEARCH,
    FileAccess,
    ToolCallRecord,
    ToolCallStatus,
)
from pantheon_core.domain.turns import AgentSnapshot
from pantheon_core.domain.users import User
from pantheon_core.ids import (
    AgentId,
    DirectSessionId,
    FileId,
    JobRunId,
    RoomId,
    StepId,
    ToolCallId,
    TurnId,
    UserId,
    new_id,
)
from pantheon_core.ports.unit_of_work import UnitOfWork
from tests.integration.contract import T0, Factory, a_room, a_user, an_agent, seed

PARIS = timezone(timedelta(hours=1))
SMALL, LARGE = Decimal("0.000001"), Decimal("123456789012.345678")


def seconds(n: float) -> datetime:
    return T0 + timedelta(seconds=n)


def a_file(owner: User, scope: FileScope, *, at: datetime = T0, size: int = 100,
           name: str = "notes.txt", status: FileStatus = FileStatus.UPLOADED) -> StoredFile:
    file_id = FileId(new_id())
    return StoredFile(id=file_id, owner_id=owner.id, scope=scope, name=name, kind=FileKind.TXT,
                      size_bytes=size, sha256="ab" * 32, blob_key=blob_key_for(file_id),
                      status=status, created_at=at, updated_at=at)


async def scopes(uow: Factory) -> tuple[User, FileScope, FileScope]:
    """A stored user with a stored room and a stored direct session: two file scopes."""
    owner = a_user()
    room = a_room(owner)
    direct = DirectSession(id=DirectSessionId(new_id()), user_id=owner.id,
                           agent=AgentSnapshot.of(an_agent(room, "Ana", 0)),
                           title="Chat with Ana", created_at=T0, updated_at=T0)
    await seed(uow, owner, rooms=(room,))
    async with uow() as work:
        await work.sessions.add_direct_session(direct)
        await work.commit()
    return owner, FileScope(room_id=room.id), FileScope(direct_session_id=direct.id)


async def stored(uow: Factory, *files: StoredFile) -> None:
    async with uow() as work:
        for file in files:
            await work.files.add(file)
        await work.commit()


# --- files ---------------------------------------------------------------------------


async def test_a_file_round_trips_every_field(uow: Factory) -> None:
    owner, in_room, in_chat = await scopes(uow)
    full = replace(a_file(owner, in_room, at=T0.astimezone(PARIS), size=3_000_000_000,
                          name="Rapport annuel — 2026 ✓.pdf"),
                   kind=FileKind.PDF, status=FileStatus.FAILED, text_chars=123_456,
                   page_offsets=(0, 1_200, 5_400), error_code="parse_failed",
                   error_message="Page 3: unreadable ✗", parse_attempts=3,
                   updated_at=seconds(30).astimezone(PARIS), deleted_at=seconds(60))
    full = replace(full, text_key=text_key_for(full.id))
    bare = a_file(owner, in_chat)
    await stored(uow, full, bare)
    async with uow() as work:
        loaded = await work.files.get(full.id)
        assert loaded == full
        assert await work.files.get(bare.id, for_update=True) == bare
        assert await work.files.get(FileId(new_id())) is None
        assert await work.files.get(FileId(new_id()), for_update=True) is None
    assert loaded is not None
    assert isinstance(loaded.page_offsets, tuple) and loaded.pages == 3
    assert loaded.kind is FileKind.PDF and loaded.status is FileStatus.FAILED
    for at in (loaded.created_at, loaded.updated_at, loaded.deleted_at):
        assert at is not None and at.utcoffset() is not None
    assert loaded.scope == in_room and loaded.scope.direct_session_id is None


async def test_file_updates_overwrite_the_stored_row(uow: Factory) -> None:
    owner, _, in_chat = await scopes(uow)
    file = a_file(owner, in_chat, name="data.csv")
    await stored(uow, file)
    parsed = file.parsing(seconds(1)).ready(seconds(2), text_key=text_key_for(file.id),
                                            text_chars=42, page_offsets=[0, 20])
    async with uow() as work:
        locked = await work.files.get(file.id, for_update=True)
        assert locked == file
        await work.files.update(parsed)
        await work.commit()
    async with uow() as work:
        assert await work.files.get(file.id) == parsed
        deleted = parsed.deleted(seconds(3))
        await work.files.update(deleted)
        await work.commit()
    async with uow() as work:
        assert await work.files.get(file.id) == deleted
        restored = deleted.restored(seconds(4))
        await work.files.update(restored)
        await work.commit()
    async with uow() as work:
        loaded = await work.files.get(file.id)
    assert loaded == restored and loaded is not None and loaded.deleted_at is None
    assert loaded.parse_attempts == 1 and loaded.page_offsets == (0, 20)


async def test_files_of_a_scope_are_listed_newest_first_live_or_deleted(uow: Factory) -> None:
    owner, in_room, in_chat = await scopes(uow)
    old, mid, new = (a_file(owner, in_room, at=seconds(n)) for n in (1, 2, 3))
    tie_a, tie_b = sorted((a_file(owner, in_room, at=seconds(5)),
                           a_file(owner, in_room, at=seconds(5))), key=lambda f: f.id)
    gone = a_file(owner, in_room, at=seconds(4)).deleted(seconds(6))
    gone_later = a_file(owner, in_room, at=seconds(0)).deleted(seconds(7))
    elsewhere = a_file(owner, in_chat, at=seconds(9))
    await stored(uow, mid, gone, tie_a, elsewhere, old, gone_later, new, tie_b)
    async with uow() as work:
        assert await work.files.list_for_scope(in_room) == [tie_b, tie_a, new, mid, old]
        assert await work.files.list_for_scope(in_room, limit=2) == [tie_b, tie_a]
        assert await work.files.list_for_scope(in_room, deleted=True) == [gone, gone_later]
        assert await work.files.list_for_scope(in_chat) == [elsewhere]
        assert await work.files.list_for_scope(in_chat, deleted=True) == []
        other = FileScope(room_id=RoomId(new_id()))
        assert await work.files.list_for_scope(other) == []


async def test_files_by_status_are_live_ones_oldest_first(uow: Factory) -> None:
    owner, in_room, in_chat = await scopes(uow)
    uploaded = a_file(owner, in_room, at=seconds(3))
    parsing = a_file(owner, in_chat, at=seconds(1), status=FileStatus.PARSING)
    tie_a, tie_b = sorted((a_file(owner, in_room, at=seconds(2)),
                           a_file(owner, in_chat, at=seconds(2))), key=lambda f: f.id)
    ready = a_file(owner, in_room, at=seconds(0), status=FileStatus.READY)
    deleted = a_file(owner, in_room, at=seconds(0), status=FileStatus.PARSING).deleted(T0)
    await stored(uow, uploaded, ready, tie_b, deleted, parsing, tie_a)
    async with uow() as work:
        stuck = await work.files.list_by_status([FileStatus.UPLOADED, FileStatus.PARSING])
        assert stuck == [parsing, tie_a, tie_b, uploaded]
        assert await work.files.list_by_status(["parsing"]) == [parsing]
        assert await work.files.list_by_status(["uploaded"], limit=1) == [tie_a]
        assert await work.files.list_by_status([FileStatus.READY]) == [ready]
        assert await work.files.list_by_status(["failed"]) == []
        assert await work.files.list_by_status([]) == []


async def test_bytes_used_sums_the_live_files_of_one_scope(uow: Factory) -> None:
    owner, in_room, in_chat = await scopes(uow)
    async with uow() as work:
        assert await work.files.bytes_used(in_room) == 0
        assert await work.files.bytes_used(in_chat) == 0
    big = a_file(owner, in_room, size=3_000_000_000)
    await stored(uow, big, a_file(owner, in_room, size=7),
                 a_file(owner, in_room, size=1_000).deleted(T0),
                 a_file(owner, in_chat, size=50), a_file(owner, in_chat, size=5).deleted(T0))
    async with uow() as work:
        assert await work.files.bytes_used(in_room) == 3_000_000_007
        assert await work.files.bytes_used(in_chat) == 50
        assert await work.files.bytes_used(FileScope(room_id=RoomId(new_id()))) == 0
        await work.files.update(big.deleted(seconds(1)))
        assert await work.files.bytes_used(in_room) == 7  # its own writes count at once
        await work.commit()
    async with uow() as work:
        used = await work.files.bytes_used(in_room)
    assert used == 7 and isinstance(used, int)


async def test_lock_scope_on_a_missing_scope_is_harmless(uow: Factory) -> None:
    async with uow() as work:
        await work.files.lock_scope(FileScope(room_id=RoomId(new_id())))
        await work.files.lock_scope(FileScope(direct_session_id=DirectSessionId(new_id())))
        await work.commit()


@pytest.mark.parametrize("scope_kind", ["room", "direct_session"])
async def test_lock_scope_lets_exactly_one_of_two_concurrent_uploads_fit(
        uow: Factory, is_fake: bool, scope_kind: str) -> None:
    """Each unit locks the scope, reads ``bytes_used`` and adds a file only if it still fits:
    with room for one more file, exactly one of two concurrent uploads gets in."""
    if is_fake:
        pytest.skip("the fake has no concurrency control: each unit works on a private copy")
    owner, in_room, in_chat = await scopes(uow)
    scope = in_room if scope_kind == "room" else in_chat
    limit, size = 250, 100
    await stored(uow, a_file(owner, scope, size=size))
    outcomes: list[bool] = []

    async def upload() -> None:
        async with uow() as work:
            await work.files.lock_scope(scope)
            used = await work.files.bytes_used(scope)
            await asyncio.sleep(0.05)  # hold the lock while the other one asks for it
            fits = used + size <= limit
            if fits:
                await work.files.add(a_file(owner, scope, size=size))
            await work.commit()
            outcomes.append(fits)

    async with anyio.create_task_group() as group:
        group.start_soon(upload)
        group.start_soon(upload)
    assert sorted(outcomes) == [False, True]
    async with uow() as work:
        assert await work.files.bytes_used(scope) == 2 * size
        assert len(await work.files.list_for_scope(scope)) == 2


# --- job runs ------------------------------------------------------------------------


def a_run(message_id: str, attempt: int = 1, *, at: datetime = T0, name: str = PARSE_FILE,
          status: JobStatus = JobStatus.RUNNING) -> JobRun:
    return JobRun(id=JobRunId(new_id()), name=name, message_id=message_id, attempt=attempt,
                  status=status, started_at=at, subject=str(new_id()))


async def test_a_job_run_round_trips_every_field_and_updates(uow: Factory) -> None:
    run = replace(a_run("msg-1", 2, at=T0.astimezone(PARIS)), subject="file 42")
    bare = JobRun(id=JobRunId(new_id()), name=PURGE_EXPIRED_CREDENTIALS, message_id="msg-2",
                  attempt=1, status=JobStatus.RUNNING, started_at=T0)
    async with uow() as work:
        await work.job_runs.add(run)
        await work.job_runs.add(bare)
        await work.commit()
    done = run.finished(seconds(2), JobStatus.RETRYING, duration_ms=2_000,
                        error="ProviderUnavailable: upstream 503 ✗ " + "x" * 3_000)
    async with uow() as work:
        assert await work.job_runs.list_for_message("msg-1") == [run]
        assert await work.job_runs.list_for_message("msg-2") == [bare]
        assert await work.job_runs.list_for_message("nope") == []
        await work.job_runs.update(done)
        await work.commit()
    async with uow() as work:
        loaded = await work.job_runs.list_for_message("msg-1")
    assert loaded == [done]
    assert loaded[0].status is JobStatus.RETRYING and loaded[0].error is not None
    assert len(loaded[0].error) == 2_000
    assert loaded[0].started_at.utcoffset() is not None
    assert loaded[0].finished_at is not None and loaded[0].finished_at.utcoffset() is not None


async def test_job_runs_of_a_message_by_attempt_then_start(uow: Factory) -> None:
    third = a_run("msg", 3, at=seconds(1))  # clocks disagree: attempt still wins
    first, second = a_run("msg", 1, at=seconds(5)), a_run("msg", 2, at=seconds(9))
    twin_a, twin_b = sorted((a_run("msg", 2, at=seconds(9)), a_run("msg", 2, at=seconds(9))),
                            key=lambda r: r.id)
    late_second = a_run("msg", 2, at=seconds(10))
    other = a_run("other", 1)
    async with uow() as work:
        for run in (late_second, third, twin_b, other, first, second, twin_a):
            await work.job_runs.add(run)
        await work.commit()
    async with uow() as work:
        runs = await work.job_runs.list_for_message("msg")
    twins = sorted((second, twin_a, twin_b), key=lambda r: r.id)
    assert runs == [first, *twins, late_second, third]


async def test_recent_job_runs_newest_first_filtered(uow: Factory) -> None:
    a = a_run("m1", at=seconds(1), status=JobStatus.SUCCEEDED)
    b = a_run("m2", at=seconds(2), status=JobStatus.FAILED)
    c = a_run("m3", at=seconds(3), name=PURGE_EXPIRED_CREDENTIALS, status=JobStatus.SUCCEEDED)
    d = a_run("m4", at=seconds(4))
    tie_a, tie_b = sorted((a_run("m5", at=seconds(5)), a_run("m6", at=seconds(5))),
                          key=lambda r: r.id)
    async with uow() as work:
        for run in (c, tie_a, a, d, b, tie_b):
            await work.job_runs.add(run)
        await work.commit()
    async with uow() as work:
        assert await work.job_runs.list_recent() == [tie_b, tie_a, d, c, b, a]
        assert await work.job_runs.list_recent(limit=3) == [tie_b, tie_a, d]
        assert await work.job_runs.list_recent(name=PARSE_FILE) == [tie_b, tie_a, d, b, a]
        assert await work.job_runs.list_recent(status="succeeded") == [c, a]
        assert await work.job_runs.list_recent(name=PARSE_FILE,
                                               status=JobStatus.SUCCEEDED) == [a]
        assert await work.job_runs.list_recent(name="nope") == []


# --- tool usage ----------------------------------------------------------------------


def a_tool_call(turn_id: TurnId, *, at: datetime = T0, round: int = 1,
                credits: Decimal = Decimal("0.5"), tool: str = WEB_SEARCH) -> ToolCallRecord:
    return ToolCallRecord(id=ToolCallId(new_id()), user_id=UserId(new_id()), turn_id=turn_id,
                          step_id=StepId(new_id()), agent_id=AgentId(new_id()),
                          room_id=RoomId(new_id()), direct_session_id=None, tool=tool,
                          arguments_summary='{"query": "pantheon"}',
                          status=ToolCallStatus.ALLOWED, latency_ms=321, credits=credits,
                          pricing_version="2026-11-v1", created_at=at, round=round,
                          result_summary="5 results")


def an_access(turn_id: TurnId, *, at: datetime = T0) -> FileAccess:
    return FileAccess(id=new_id(), file_id=FileId(new_id()), user_id=UserId(new_id()),
                      turn_id=turn_id, step_id=StepId(new_id()), agent_id=AgentId(new_id()),
                      tool_call_id=ToolCallId(new_id()), chars_returned=4_000, created_at=at)


async def test_tool_calls_and_file_reads_round_trip_every_field(uow: Factory) -> None:
    turn = TurnId(new_id())
    denied = replace(a_tool_call(turn, at=T0.astimezone(PARIS), round=2, credits=LARGE,
                                 tool="delete_everything"),
                     agent_id=None, room_id=None, direct_session_id=DirectSessionId(new_id()),
                     status=ToolCallStatus.DENIED, latency_ms=0, result_summary="",
                     error_code="tool_not_allowed", error_message="Ana may not use it ✗")
    tiny = a_tool_call(turn, at=seconds(1), credits=SMALL, tool=READ_FILE)
    free = a_tool_call(turn, at=seconds(2), credits=Decimal(0))
    paged = replace(an_access(turn, at=T0.astimezone(PARIS)), page_from=2, page_to=5)
    anonymous = replace(an_access(turn, at=seconds(1)), agent_id=None)
    async with uow() as work:
        for record in (denied, tiny, free):
            await work.tool_usage.add_call(record)
        await work.tool_usage.add_file_access(paged)
        await work.tool_usage.add_file_access(anonymous)
        await work.commit()
    async with uow() as work:
        calls = await work.tool_usage.calls_for_turn(turn)
        accesses = await work.tool_usage.file_accesses_for_turn(turn)
        assert await work.tool_usage.calls_for_turn(TurnId(new_id())) == []
        assert await work.tool_usage.file_accesses_for_turn(TurnId(new_id())) == []
    assert calls == [denied, tiny, free] and accesses == [paged, anonymous]
    assert [c.credits for c in calls] == [LARGE, SMALL, Decimal(0)]
    assert all(isinstance(c.credits, Decimal) for c in calls)
    assert str(calls[1].credits.normalize()) == "0.000001"
    assert calls[0].status is ToolCallStatus.DENIED
    assert all(c.created_at.utcoffset() is not None for c in calls)
    assert all(a.created_at.utcoffset() is not None for a in accesses)


async def test_tool_calls_by_creation_time_then_round(uow: Factory) -> None:
    turn = TurnId(new_id())
    late = a_tool_call(turn, at=seconds(5), round=1)
    second_round = a_tool_call(turn, at=seconds(1), round=2)
    first_round = a_tool_call(turn, at=seconds(1), round=1)
    twin_a, twin_b = sorted((a_tool_call(turn, at=seconds(1), round=3),
                             a_tool_call(turn, at=seconds(1), round=3)), key=lambda c: c.id)
    other = a_tool_call(TurnId(new_id()), at=seconds(0))
    reads = [an_access(turn, at=seconds(n)) for n in (3, 1, 2)]
    async with uow() as work:
        for record in (late, twin_b, second_round, other, first_round, twin_a):
            await work.tool_usage.add_call(record)
        for access in reads:
            await work.tool_usage.add_file_access(access)
        await work.tool_usage.add_file_access(an_access(TurnId(new_id())))
        await work.commit()
    async with uow() as work:
        assert await work.tool_usage.calls_for_turn(turn) == [
            first_round, second_round, twin_a, twin_b, late]
        assert await work.tool_usage.file_accesses_for_turn(turn) == [
            reads[1], reads[2], reads[0]]


# --- transactions --------------------------------------------------------------------


async def test_leaving_without_commit_or_rolling_back_leaves_nothing(uow: Factory) -> None:
    owner, in_room, _ = await scopes(uow)
    turn = TurnId(new_id())
    file, run = a_file(owner, in_room), a_run("msg")
    call, access = a_tool_call(turn), an_access(turn)

    async def write_all(work: UnitOfWork) -> None:
        await work.files.add(file)
        await work.job_runs.add(run)
        await work.tool_usage.add_call(call)
        await work.tool_usage.add_file_access(access)
        assert await work.files.get(file.id) == file
        assert await work.files.bytes_used(in_room) == file.size_bytes
        assert await work.job_runs.list_for_message("msg") == [run]
        assert await work.tool_usage.calls_for_turn(turn) == [call]
        assert await work.tool_usage.file_accesses_for_turn(turn) == [access]

    async with uow() as work:
        await write_all(work)
    async with uow() as work:
        await write_all(work)
        await work.rollback()
        await work.commit()
    async with uow() as work:
        assert await work.files.get(file.id) is None
        assert await work.files.list_for_scope(in_room) == []
        assert await work.files.bytes_used(in_room) == 0
        assert await work.job_runs.list_for_message("msg") == []
        assert await work.job_runs.list_recent() == []
        assert await work.tool_usage.calls_for_turn(turn) == []
        assert await work.tool_usage.file_accesses_for_turn(turn) == []
