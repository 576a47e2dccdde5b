"""FR-DATA-001: chat and file data older than the retention window is purged by
``purge_expired_content``; billing and usage records stay, without message content, and
still add up to the same totals. The clock is a fake."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from pantheon_core.domain.jobs import PURGE_EXPIRED_CONTENT, JobStatus
from pantheon_core.domain.retention import PurgeKind
from pantheon_core.domain.sessions import Memory
from pantheon_core.domain.tools import ToolCallRecord, ToolCallStatus
from pantheon_core.domain.trash import PurgeReason, TrashKind
from pantheon_core.errors import Gone
from pantheon_core.ids import StepId, ToolCallId, new_id
from tests.fakes import FakeApp
from tests.unit.helpers import sign_up
from tests.unit.retention_helpers import (
    direct_chat,
    furnished_room,
    keys_of,
    retention_app,
    upload,
)


def tool_call(app: FakeApp, turn_id: str, user_id: str, at: datetime) -> ToolCallRecord:
    record = ToolCallRecord(
        id=ToolCallId(new_id()), user_id=user_id, turn_id=turn_id,  # type: ignore[arg-type]
        step_id=StepId(new_id()), agent_id=None, room_id=None, direct_session_id=None,
        tool="web_search", arguments_summary="query: my private question",
        status=ToolCallStatus.ALLOWED, latency_ms=12, credits=Decimal("0.05"),
        pricing_version="v1", created_at=at, result_summary="3 results about it")
    app.store.tool_calls.append(record)
    return record


async def billing_totals(app: FakeApp, actor: object) -> tuple[object, ...]:
    usage = await app.uc.usage_report(actor, start=app.clock.now() - timedelta(days=400))  # type: ignore[arg-type]
    wallet = (await app.uc.get_wallet(actor)).wallet  # type: ignore[arg-type]
    ledger_sum = sum(e.amount for e in app.store.ledger if e.user_id == wallet.user_id)
    return (tuple(usage), wallet.plan_balance + wallet.topup_balance, ledger_sum,
            len(app.store.calls), len(app.store.ledger))


async def test_content_older_than_the_window_goes_and_billing_stays_the_same() -> None:
    app, blobs = retention_app()
    old = await furnished_room(app)
    call = tool_call(app, old.turn.id, old.actor.user_id or "", app.clock.now())
    app.clock.advance(days=60)
    recent_turn = await app.uc.send_to_room(old.actor, old.room.id, "And now?")
    await app.settle()
    recent_file = await upload(app, old.actor, b"fresh", room_id=old.room.id)
    app.clock.advance(days=31)  # the first turn and file are 91 days old, the others 31
    totals = await billing_totals(app, old.actor)

    report = await app.uc.purge_expired_content()

    assert old.turn.id not in app.store.turns and old.file.id not in app.store.files
    assert not any(st.turn_id == old.turn.id for st in app.store.steps.values())
    assert not any(t == old.turn.id for t, _ in app.store.events)
    assert not keys_of(old.file) & set(blobs.objects)
    assert recent_turn.id in app.store.turns and recent_file.id in app.store.files
    assert keys_of(recent_file) <= set(blobs.objects)
    # The room and its agents are configuration, not chat data: they stay.
    assert [a.name for a in await app.uc.list_agents(old.actor, old.room.id)] == ["Ana", "Bo"]
    # Usage rows stay, pointing at a turn that is gone; the tool call lost its text only.
    assert {c.turn_id for c in app.store.calls} >= {old.turn.id}
    [kept] = [c for c in app.store.tool_calls if c.id == call.id]
    assert (kept.arguments_summary, kept.result_summary, kept.credits, kept.latency_ms) == \
        ("", "", call.credits, call.latency_ms)
    assert await billing_totals(app, old.actor) == totals
    tally = report.tally
    assert (tally.rows(PurgeKind.TURNS), tally.rows(PurgeKind.FILES),
            tally.rows(PurgeKind.TOOL_CALL_DETAILS), tally.rows(PurgeKind.ROOMS)) == (1, 1, 1, 0)
    assert report.cutoff == app.clock.now() - timedelta(days=90)


async def test_a_summary_written_from_purged_turns_is_cleared() -> None:
    app, _ = retention_app()
    f = await furnished_room(app)
    [session] = app.store.room_sessions.values()
    app.store.room_sessions[session.id] = replace(
        session, memory=Memory("They asked what to build.", f.turn.created_at))
    app.clock.advance(days=89)
    assert (await app.uc.purge_expired_content()).tally.total_rows == 0
    app.clock.advance(days=2)
    report = await app.uc.purge_expired_content()
    assert report.tally.rows(PurgeKind.MEMORIES) == 1
    assert session.id not in app.store.room_sessions  # idle since, so it went too
    assert report.tally.rows(PurgeKind.ROOM_SESSIONS) == 1


async def test_an_active_conversation_keeps_its_recent_turns_and_loses_its_summary() -> None:
    app, _ = retention_app()
    f = await furnished_room(app)
    app.clock.advance(days=85)
    await app.uc.send_to_room(f.actor, f.room.id, "Still here")
    await app.settle()
    [session] = app.store.room_sessions.values()
    app.store.room_sessions[session.id] = replace(
        session, memory=Memory("Summary of everything so far.", f.turn.created_at))
    app.clock.advance(days=6)
    report = await app.uc.purge_expired_content()
    kept = app.store.room_sessions[session.id]
    assert kept.memory == Memory()
    assert (report.tally.rows(PurgeKind.TURNS), report.tally.rows(PurgeKind.MEMORIES),
            report.tally.rows(PurgeKind.ROOM_SESSIONS)) == (1, 1, 0)
    page = await app.uc.list_timeline(f.actor, room_id=f.room.id)
    assert [e.turn.message for e in page.entries] == ["Still here"]


async def test_idle_direct_chats_go_whole_and_active_ones_stay() -> None:
    app, blobs = retention_app()
    actor = await sign_up(app, "ada@example.com")
    idle = await direct_chat(app, actor)
    app.clock.advance(days=50)
    active = await direct_chat(app, actor)
    app.clock.advance(days=41)
    report = await app.uc.purge_expired_content()
    assert idle.session.id not in app.store.direct_sessions
    assert active.session.id in app.store.direct_sessions
    assert [s.id for s in await app.uc.list_direct_sessions(actor)] == [active.session.id]
    assert not keys_of(idle.file) & set(blobs.objects)
    assert (report.tally.rows(PurgeKind.DIRECT_SESSIONS), report.tally.rows(PurgeKind.TURNS),
            report.tally.rows(PurgeKind.FILES)) == (1, 1, 1)


async def test_a_recent_file_keeps_an_old_direct_chat() -> None:
    app, _ = retention_app()
    actor = await sign_up(app, "ada@example.com")
    chat = await direct_chat(app, actor)
    app.clock.advance(days=89)
    await upload(app, actor, b"new", direct_session_id=chat.session.id)
    app.clock.advance(days=2)
    report = await app.uc.purge_expired_content()
    assert chat.session.id in app.store.direct_sessions
    assert (report.tally.rows(PurgeKind.TURNS), report.tally.rows(PurgeKind.FILES),
            report.tally.rows(PurgeKind.DIRECT_SESSIONS)) == (1, 1, 0)


async def test_the_window_is_configurable() -> None:
    app, _ = retention_app(days=30)
    f = await furnished_room(app)
    app.clock.advance(days=29)
    assert (await app.uc.purge_expired_content()).tally.total_rows == 0
    app.clock.advance(days=2)
    assert (await app.uc.purge_expired_content()).tally.rows(PurgeKind.TURNS) == 1
    assert f.turn.id not in app.store.turns


async def test_a_dry_run_changes_nothing_and_counts_what_the_real_run_purges() -> None:
    app, blobs = retention_app()
    f = await furnished_room(app)
    await direct_chat(app, f.actor)
    tool_call(app, f.turn.id, f.actor.user_id or "", app.clock.now())
    [session] = app.store.room_sessions.values()
    app.store.room_sessions[session.id] = replace(session, memory=Memory("s", None))
    app.clock.advance(days=91)
    before, stored = app.store.__dict__.copy(), dict(blobs.objects)
    dry = await app.uc.purge_expired_content(dry_run=True)
    assert app.store.__dict__ == before and blobs.objects == stored
    real = await app.uc.purge_expired_content()
    assert dry.tally == real.tally and dry.tally.total_rows > 0
    assert real.blobs_deleted == 4 and dry.blobs_deleted == 0


async def test_a_soft_deleted_file_purged_by_retention_answers_retention_expired() -> None:
    app, _ = retention_app()
    f = await furnished_room(app)
    app.clock.advance(days=89)
    await app.uc.delete_file(f.actor, f.file.id)
    app.clock.advance(days=2)
    await app.uc.purge_expired_content()
    stone = app.store.tombstones[(TrashKind.FILE.value, f.file.id)]
    assert stone.reason is PurgeReason.RETENTION
    with pytest.raises(Gone) as gone:
        await app.uc.restore_file(f.actor, f.file.id)
    assert gone.value.code == "retention_expired"


async def test_tombstones_are_kept_for_the_retention_window_then_dropped() -> None:
    app, _ = retention_app()
    f = await furnished_room(app)
    await app.uc.delete_room(f.actor, f.room.id)
    app.clock.advance(days=8)
    await app.uc.purge_deleted()
    assert (TrashKind.ROOM.value, f.room.id) in app.store.tombstones
    app.clock.advance(days=89)
    assert (await app.uc.purge_expired_content()).tally.rows(PurgeKind.TOMBSTONES) == 0
    app.clock.advance(days=2)
    assert (await app.uc.purge_expired_content()).tally.rows(PurgeKind.TOMBSTONES) == 1
    assert app.store.tombstones == {}


async def test_purge_expired_content_runs_as_a_recorded_job() -> None:
    app, _ = retention_app()
    await furnished_room(app)
    app.clock.advance(days=91)
    await app.uc.run_job(PURGE_EXPIRED_CONTENT, {}, message_id="m1", attempt=1, final=True)
    [run] = app.store.job_runs.values()
    assert (run.name, run.status) == (PURGE_EXPIRED_CONTENT, JobStatus.SUCCEEDED)
    assert app.store.turns == {}
