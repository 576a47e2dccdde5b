"""AT-012 (FR-DATA-002): soft delete, restore within 7 days, hard purge after the grace period.

The clock is a fake: days pass by ``app.clock.advance``. For each kind users delete — rooms,
agents, direct chats, files — a restore inside the window brings everything back; after it
the purge job removes the rows and the stored objects, and restore answers
``410 restore_window_expired`` (before and after the purge).
"""

from __future__ import annotations

import pytest

from pantheon_core.domain.jobs import PURGE_DELETED, JobStatus
from pantheon_core.domain.retention import PurgeKind
from pantheon_core.errors import Conflict, Gone, NotFound
from tests.fakes import FakeApp
from tests.unit.helpers import sign_up
from tests.unit.retention_helpers import (
    Furnished,
    direct_chat,
    furnished_room,
    keys_of,
    retention_app,
    upload,
)

WINDOW_PASSED = {"days": 7, "seconds": 1}


def leftovers(app: FakeApp, f: Furnished) -> dict[str, int]:
    """Rows of the furnished room still stored, by table."""
    s = app.store
    return {
        "rooms": sum(r.id == f.room.id for r in s.rooms.values()),
        "agents": sum(a.room_id == f.room.id for a in s.agents.values()),
        "sessions": sum(rs.room_id == f.room.id for rs in s.room_sessions.values()),
        "turns": sum(t.room_id == f.room.id for t in s.turns.values()),
        "steps": sum(st.turn_id == f.turn.id for st in s.steps.values()),
        "events": sum(t == f.turn.id for t, _ in s.events),
        "files": sum(fl.scope.room_id == f.room.id for fl in s.files.values()),
    }


async def test_at_012_a_room_restored_within_7_days_comes_back_whole() -> None:
    app, blobs = retention_app()
    f = await furnished_room(app)
    before = leftovers(app, f)
    await app.uc.delete_room(f.actor, f.room.id)
    with pytest.raises(NotFound):
        await app.uc.list_agents(f.actor, f.room.id)  # its agents went into the trash with it
    app.clock.advance(days=6, hours=23)
    report = await app.uc.purge_deleted()
    assert report.tally.total_rows == 0
    restored = await app.uc.restore_room(f.actor, f.room.id)
    assert restored.deleted_at is None
    assert [a.name for a in await app.uc.list_agents(f.actor, f.room.id)] == ["Ana", "Bo"]
    page = await app.uc.list_timeline(f.actor, room_id=f.room.id)
    assert [e.turn.id for e in page.entries] == [f.turn.id]
    assert len(page.entries[0].steps) == 2
    listing = await app.uc.list_files(f.actor, room_id=f.room.id)
    assert [x.id for x in listing.files] == [f.file.id]
    assert keys_of(f.file) <= set(blobs.objects)
    assert leftovers(app, f) == before


async def test_at_012_a_room_past_the_window_is_purged_with_its_rows_and_blobs() -> None:
    app, blobs = retention_app()
    f = await furnished_room(app)
    calls, ledger = list(app.store.calls), list(app.store.ledger)
    await app.uc.delete_room(f.actor, f.room.id)
    app.clock.advance(**WINDOW_PASSED)
    with pytest.raises(Gone) as late:  # the purge has not run yet: still a clear answer
        await app.uc.restore_room(f.actor, f.room.id)
    assert late.value.code == "restore_window_expired"
    assert late.value.details["purged"] is False

    report = await app.uc.purge_deleted()

    assert leftovers(app, f) == dict.fromkeys(leftovers(app, f), 0)
    assert not keys_of(f.file) & set(blobs.objects)
    assert app.store.blob_purges == {}
    tally = report.tally
    assert (tally.rows(PurgeKind.ROOMS), tally.rows(PurgeKind.AGENTS),
            tally.rows(PurgeKind.TURNS), tally.rows(PurgeKind.STEPS),
            tally.rows(PurgeKind.FILES)) == (1, 2, 1, 2, 1)
    assert tally.rows(PurgeKind.EVENTS) > 0 and tally.rows(PurgeKind.ROOM_SESSIONS) == 1
    files = tally.of_kind(PurgeKind.FILES)
    assert (files.blobs, files.blob_bytes) == (2, len(b"room notes"))
    assert report.blobs_deleted == 2
    # Usage and billing records stay.
    assert app.store.calls == calls and app.store.ledger == ledger
    with pytest.raises(Gone) as gone:
        await app.uc.restore_room(f.actor, f.room.id)
    assert gone.value.code == "restore_window_expired"
    assert gone.value.details == {"kind": "room", "ref": f.room.id, "purged": True,
                                  "restorable_until": gone.value.details["restorable_until"]}


async def test_at_012_exactly_7_days_is_still_in_time_and_not_purged() -> None:
    app, _ = retention_app()
    f = await furnished_room(app)
    await app.uc.delete_room(f.actor, f.room.id)
    app.clock.advance(days=7)
    assert (await app.uc.purge_deleted()).tally.total_rows == 0
    assert (await app.uc.restore_room(f.actor, f.room.id)).deleted_at is None


async def test_at_012_agents_restore_within_7_days_and_are_purged_after() -> None:
    app, _ = retention_app()
    f = await furnished_room(app)
    removed = await app.uc.remove_agent(f.actor, f.room.id, "Ana")
    assert [a.id for a in await app.uc.list_agents(f.actor, f.room.id, deleted=True)] == \
        [removed.id]
    app.clock.advance(days=3)
    back = await app.uc.restore_agent(f.actor, f.room.id, "ana")  # by name, any case
    assert (back.id, back.deleted_at, back.position) == (removed.id, None, 1)  # last in order
    assert [a.name for a in await app.uc.list_agents(f.actor, f.room.id)] == ["Bo", "Ana"]

    await app.uc.remove_agent(f.actor, f.room.id, "Ana")
    app.clock.advance(**WINDOW_PASSED)
    with pytest.raises(Gone) as late:
        await app.uc.restore_agent(f.actor, f.room.id, removed.id)
    assert late.value.code == "restore_window_expired"
    report = await app.uc.purge_deleted()
    assert report.tally.rows(PurgeKind.AGENTS) == 1 and report.tally.total_rows == 1
    assert removed.id not in app.store.agents
    with pytest.raises(Gone) as gone:
        await app.uc.restore_agent(f.actor, f.room.id, removed.id)
    assert (gone.value.code, gone.value.details["purged"]) == ("restore_window_expired", True)
    # The turn that ran with Ana keeps its roster snapshot and steps.
    assert len((await app.uc.get_turn(f.actor, f.turn.id)).timeline.steps) == 2


async def test_at_012_direct_chats_restore_within_7_days_and_are_purged_after() -> None:
    app, blobs = retention_app()
    actor = await sign_up(app, "ada@example.com")
    chat = await direct_chat(app, actor)
    await app.uc.delete_direct_session(actor, chat.session.id)
    assert await app.uc.list_direct_sessions(actor) == []
    assert [s.id for s in await app.uc.list_direct_sessions(actor, deleted=True)] == \
        [chat.session.id]
    with pytest.raises(NotFound):  # its history and files are hidden with it
        await app.uc.list_timeline(actor, direct_session_id=chat.session.id)
    app.clock.advance(days=5)
    await app.uc.restore_direct_session(actor, chat.session.id)
    page = await app.uc.list_timeline(actor, direct_session_id=chat.session.id)
    assert [e.turn.id for e in page.entries] == [chat.turn.id]
    assert [x.id for x in (await app.uc.list_files(
        actor, direct_session_id=chat.session.id)).files] == [chat.file.id]

    await app.uc.delete_direct_session(actor, chat.session.id)
    app.clock.advance(**WINDOW_PASSED)
    report = await app.uc.purge_deleted()
    assert (report.tally.rows(PurgeKind.DIRECT_SESSIONS), report.tally.rows(PurgeKind.TURNS),
            report.tally.rows(PurgeKind.FILES)) == (1, 1, 1)
    assert chat.session.id not in app.store.direct_sessions
    assert chat.turn.id not in app.store.turns and chat.file.id not in app.store.files
    assert not keys_of(chat.file) & set(blobs.objects)
    with pytest.raises(Gone) as gone:
        await app.uc.restore_direct_session(actor, chat.session.id)
    assert gone.value.code == "restore_window_expired"


async def test_at_012_files_restore_within_7_days_and_are_purged_after() -> None:
    app, blobs = retention_app()
    f = await furnished_room(app)
    other = await upload(app, f.actor, b"keep me", room_id=f.room.id)
    await app.uc.delete_file(f.actor, f.file.id)
    app.clock.advance(days=2)
    assert (await app.uc.restore_file(f.actor, f.file.id)).deleted_at is None
    await app.uc.delete_file(f.actor, f.file.id)
    app.clock.advance(**WINDOW_PASSED)
    with pytest.raises(Gone) as late:
        await app.uc.restore_file(f.actor, f.file.id)
    assert late.value.code == "restore_window_expired"
    report = await app.uc.purge_deleted()
    assert report.tally.rows(PurgeKind.FILES) == 1 and report.tally.total_rows == 1
    assert f.file.id not in app.store.files and not keys_of(f.file) & set(blobs.objects)
    assert keys_of(other) <= set(blobs.objects)  # the live file is untouched
    with pytest.raises(Gone) as gone:
        await app.uc.restore_file(f.actor, f.file.id)
    assert (gone.value.code, gone.value.details["kind"]) == ("restore_window_expired", "file")


async def test_at_012_one_code_for_every_kind_after_the_window() -> None:
    """Rooms, agents, direct chats and files all answer 410 restore_window_expired."""
    app, _ = retention_app()
    f = await furnished_room(app)
    chat = await direct_chat(app, f.actor)
    agent = await app.uc.remove_agent(f.actor, f.room.id, "Bo")
    await app.uc.delete_file(f.actor, f.file.id)
    await app.uc.delete_direct_session(f.actor, chat.session.id)
    extra = await app.uc.create_room(f.actor, name="Spare")
    await app.uc.delete_room(f.actor, extra.id)
    app.clock.advance(days=8)
    attempts = [app.uc.restore_agent(f.actor, f.room.id, agent.id),
                app.uc.restore_file(f.actor, f.file.id),
                app.uc.restore_direct_session(f.actor, chat.session.id),
                app.uc.restore_room(f.actor, extra.id)]
    for attempt in attempts:
        with pytest.raises(Gone) as gone:
            await attempt
        assert gone.value.code == "restore_window_expired"


async def test_at_012_someone_elses_purged_things_stay_not_found() -> None:
    app, _ = retention_app()
    f = await furnished_room(app)
    mallory = await sign_up(app, "mallory@example.com")
    await app.uc.delete_room(f.actor, f.room.id)
    app.clock.advance(days=8)
    await app.uc.purge_deleted()
    with pytest.raises(NotFound) as hidden:
        await app.uc.restore_room(mallory, f.room.id)
    assert hidden.value.code == "room_not_found"


async def test_at_012_restoring_what_is_not_deleted_is_a_conflict() -> None:
    app, _ = retention_app()
    f = await furnished_room(app)
    chat = await direct_chat(app, f.actor)
    for attempt, code in ((app.uc.restore_room(f.actor, f.room.id), "room_not_deleted"),
                          (app.uc.restore_agent(f.actor, f.room.id, "Ana"), "agent_not_deleted"),
                          (app.uc.restore_direct_session(f.actor, chat.session.id),
                           "direct_session_not_deleted")):
        with pytest.raises(Conflict) as caught:
            await attempt
        assert caught.value.code == code


async def test_at_012_an_agent_whose_name_was_taken_meanwhile_is_not_restored() -> None:
    app, _ = retention_app()
    f = await furnished_room(app)
    removed = await app.uc.remove_agent(f.actor, f.room.id, "Ana")
    await app.uc.add_agent(f.actor, f.room.id, name="ANA", model_alias="llama")
    with pytest.raises(Conflict) as clash:
        await app.uc.restore_agent(f.actor, f.room.id, removed.id)
    assert clash.value.code == "duplicate_agent_name"
    assert app.store.agents[removed.id].deleted_at is not None  # nothing changed


async def test_at_012_the_purge_is_idempotent_and_batched() -> None:
    app, blobs = retention_app(batch_size=2, max_batches=2)
    actor = await sign_up(app, "ada@example.com")
    rooms = [await app.uc.create_room(actor, name=f"Room {i}") for i in range(5)]
    files = [await upload(app, actor, b"x" * (i + 1), room_id=r.id) for i, r in
             enumerate(rooms)]
    for room in rooms:
        await app.uc.delete_room(actor, room.id)
    app.clock.advance(days=8)
    # At most 2 batches of 2 per step and run: a backlog takes several runs.
    first = await app.uc.purge_deleted()
    assert (first.tally.rows(PurgeKind.ROOMS), first.blobs_deleted, first.complete) == \
        (4, 4, False)
    second = await app.uc.purge_deleted()
    assert (second.tally.rows(PurgeKind.ROOMS), second.blobs_deleted, second.complete) == \
        (1, 4, False)
    third = await app.uc.purge_deleted()
    assert (third.tally.total_rows, third.blobs_deleted, third.complete) == (0, 2, True)
    fourth = await app.uc.purge_deleted()
    assert (fourth.tally.total_rows, fourth.blobs_deleted, fourth.complete) == (0, 0, True)
    assert app.store.rooms == {} and app.store.files == {}
    assert not set().union(*(keys_of(f) for f in files)) & set(blobs.objects)
    assert first.tally.blob_bytes + second.tally.blob_bytes == sum(range(1, 6))


async def test_at_012_a_dry_run_changes_nothing_and_counts_what_the_real_run_purges() -> None:
    app, blobs = retention_app()
    f = await furnished_room(app)
    chat = await direct_chat(app, f.actor)
    await app.uc.remove_agent(f.actor, f.room.id, "Bo")
    await upload(app, f.actor, b"second", room_id=f.room.id)
    await app.uc.delete_file(f.actor, f.file.id)
    await app.uc.delete_direct_session(f.actor, chat.session.id)
    app.clock.advance(**WINDOW_PASSED)
    before, stored = app.store.__dict__.copy(), dict(blobs.objects)
    dry = await app.uc.purge_deleted(dry_run=True)
    assert app.store.__dict__ == before and blobs.objects == stored
    real = await app.uc.purge_deleted()
    assert dry.dry_run and not real.dry_run
    assert dry.tally == real.tally
    assert (real.tally.rows(PurgeKind.AGENTS), real.tally.rows(PurgeKind.FILES),
            real.tally.rows(PurgeKind.DIRECT_SESSIONS)) == (1, 2, 1)


async def test_at_012_purge_deleted_runs_as_a_recorded_job() -> None:
    app, _ = retention_app()
    f = await furnished_room(app)
    await app.uc.delete_room(f.actor, f.room.id)
    app.clock.advance(days=8)
    await app.uc.run_job(PURGE_DELETED, {}, message_id="m1", attempt=1, final=True)
    [run] = app.store.job_runs.values()
    assert (run.name, run.status) == (PURGE_DELETED, JobStatus.SUCCEEDED)
    assert f.room.id not in app.store.rooms
