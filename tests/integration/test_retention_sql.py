"""The retention jobs end to end on a real database (SQLite and PostgreSQL) and real file
storage (``LocalBlobStore``): AT-012 for a room with a finished turn and a parsed file, and the
retention window leaving wallets, the ledger and usage reports adding up to the same."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from pantheon_adapters.events.memory import InProcessTurnEvents
from pantheon_adapters.sql.database import Database
from pantheon_adapters.storage.local import LocalBlobStore
from pantheon_adapters.tasks.inprocess import InProcessTasks
from pantheon_core.actor import Actor
from pantheon_core.domain.retention import PurgeKind
from pantheon_core.errors import Gone, NotFound
from pantheon_core.usecases.catalog import UseCases
from pantheon_core.usecases.deps import Deps, RetentionPolicy
from tests.fake_chat import FakeChatModel
from tests.fake_tools import PlainTextParser
from tests.fakes import FAST_ENGINE, AllowAllLimiter, FakeClock, FakeMailer
from tests.integration.sql_databases import migrated_database


@dataclass
class App:
    database: Database
    clock: FakeClock
    tasks: InProcessTasks
    blob_dir: Path
    uc: UseCases

    def stored(self) -> list[Path]:
        root = self.blob_dir
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
async def app(database_url: str, tmp_path: Path) -> AsyncIterator[App]:
    async with migrated_database(database_url) as database:
        clock, tasks = FakeClock(), InProcessTasks()
        deps = Deps(uow=database.unit_of_work, clock=clock, mailer=FakeMailer(),
                    limiter=AllowAllLimiter(), chat=FakeChatModel(),
                    events=InProcessTurnEvents(), tasks=tasks, engine=FAST_ENGINE,
                    blobs=LocalBlobStore(tmp_path / "blobs"), documents=PlainTextParser(),
                    retention=RetentionPolicy(batch_size=2))
        yield App(database, clock, tasks, tmp_path / "blobs", UseCases.build(deps))
        await tasks.aclose()


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def furnish(app: App, actor: Actor, name: str = "Lab") -> tuple[str, str, str]:
    """A room with two agents, one finished turn and one parsed file: (room, turn, file)."""
    room = await app.uc.create_room(actor, name=name)
    for agent in ("Ana", "Bo"):
        await app.uc.add_agent(actor, room.id, name=agent, model_alias="qwen")
    turn = await app.uc.send_to_room(actor, room.id, "What should we build?")
    await app.tasks.wait_idle()
    ticket = await app.uc.request_upload(actor, filename="notes.txt", room_id=room.id)
    file = await app.uc.finish_upload(ticket.token, _body(b"Ship in March."))
    return room.id, turn.id, file.id


async def totals(app: App, actor: Actor) -> tuple[object, ...]:
    usage = await app.uc.usage_report(actor, start=app.clock.now() - timedelta(days=400))
    view = await app.uc.get_wallet(actor)
    ledger = await app.uc.list_ledger(actor, limit=200)
    return (tuple(usage), view.wallet.plan_balance, view.wallet.topup_balance,
            sum(e.amount for e in ledger), len(ledger))


async def test_at_012_a_room_is_restorable_for_7_days_then_purged_with_its_files(
        app: App) -> None:
    ada = await app.uc.act_as(Actor.operator(), "ada@example.com")
    room_id, turn_id, file_id = await furnish(app, ada)
    spare, _, _ = await furnish(app, ada, "Spare")
    assert len(app.stored()) == 4  # two originals and their texts
    await app.uc.delete_room(ada, room_id)
    app.clock.advance(days=6)
    await app.uc.purge_deleted()
    assert (await app.uc.restore_room(ada, room_id)).deleted_at is None
    assert len((await app.uc.list_timeline(ada, room_id=room_id)).entries) == 1

    await app.uc.delete_room(ada, room_id)
    bo = await app.uc.remove_agent(ada, spare, "Bo")
    app.clock.advance(days=7, seconds=1)
    before = await totals(app, ada)
    dry = await app.uc.purge_deleted(dry_run=True)
    assert len(app.stored()) == 4
    report = await app.uc.purge_deleted()
    assert dry.tally == report.tally
    assert (report.tally.rows(PurgeKind.ROOMS), report.tally.rows(PurgeKind.AGENTS),
            report.tally.rows(PurgeKind.TURNS), report.tally.rows(PurgeKind.STEPS),
            report.tally.rows(PurgeKind.FILES)) == (1, 3, 1, 2, 1)
    assert report.blobs_deleted == 2 and len(app.stored()) == 2
    for restore in (app.uc.restore_room(ada, room_id), app.uc.restore_agent(ada, spare, bo.id)):
        with pytest.raises(Gone) as gone:
            await restore
        assert gone.value.code == "restore_window_expired"
    with pytest.raises(NotFound):  # it went with its room: restore the room, not the file
        await app.uc.restore_file(ada, file_id)
    assert await totals(app, ada) == before  # usage and billing untouched
    async with app.database.unit_of_work() as work:
        assert await work.turns.get(turn_id) is None  # type: ignore[arg-type]
        assert len(await work.usage.list_for_turn(turn_id)) == 2  # type: ignore[arg-type]
    again = await app.uc.purge_deleted()
    assert again.tally.total_rows == 0 and again.blobs_deleted == 0


async def test_the_retention_window_purges_content_and_billing_adds_up_the_same(
        app: App) -> None:
    ada = await app.uc.act_as(Actor.operator(), "ada@example.com")
    room_id, old_turn, old_file = await furnish(app, ada)
    app.clock.advance(days=60)
    fresh = await app.uc.send_to_room(ada, room_id, "And now?")
    await app.tasks.wait_idle()
    app.clock.advance(days=31)
    before = await totals(app, ada)
    dry = await app.uc.purge_expired_content(dry_run=True)
    report = await app.uc.purge_expired_content()
    assert dry.tally == report.tally
    assert (report.tally.rows(PurgeKind.TURNS), report.tally.rows(PurgeKind.FILES)) == (1, 1)
    assert app.stored() == []
    page = await app.uc.list_timeline(ada, room_id=room_id)
    assert [e.turn.id for e in page.entries] == [fresh.id]
    assert await totals(app, ada) == before
    async with app.database.unit_of_work() as work:
        assert await work.files.get(old_file) is None  # type: ignore[arg-type]
        assert len(await work.usage.list_for_turn(old_turn)) == 2  # type: ignore[arg-type]
