"""Migrations: every step reversible, and the result equal to the tables the code uses."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import anyio
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import CheckConstraint, bindparam, create_engine, inspect, text

from pantheon_adapters.sql import migrate
from pantheon_adapters.sql.coltypes import UTCDateTime
from pantheon_adapters.sql.database import Database
from pantheon_adapters.sql.tables import metadata
from pantheon_adapters.sql.urls import sync_url
from pantheon_core.domain.pricing import PricingVersion
from pantheon_core.ids import RoomId, TurnId
from tests.pricing_seed import SEED_PRICING


def revisions() -> list[Script]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    return list(reversed(list(script.walk_revisions("base", "heads"))))


def table_names(url: str) -> set[str]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_history_is_one_line(database_url: str) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(database_url))
    assert len(script.get_heads()) == 1
    assert revisions()[0].down_revision is None


def test_stairway_every_revision_goes_up_down_and_up_again(database_url: str) -> None:
    url = database_url
    for revision in revisions():
        migrate.upgrade(url, revision.revision)
        assert migrate.status(url)["current"] == revision.revision
        migrate.downgrade(url, revision.down_revision or "base")
        assert migrate.status(url)["current"] == revision.down_revision
        migrate.upgrade(url, revision.revision)
    migrate.downgrade(url, "base")
    assert table_names(url) == set()


def test_migrations_build_exactly_the_tables_the_code_uses(database_url: str) -> None:
    migrate.upgrade(database_url, "head")
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()
    assert table_names(database_url) == set(metadata.tables)


def _predicate(clause: object) -> str:
    return "".join(ch for ch in str(clause).lower() if ch not in "() ")


def test_partial_indexes_have_the_predicates_the_code_declares(database_url: str) -> None:
    """Autogenerate does not compare index predicates, so this does."""
    migrate.upgrade(database_url, "head")
    engine = create_engine(sync_url(database_url))
    dialect = engine.dialect.name
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            for table in metadata.tables.values():
                reflected = {ix["name"]: ix.get("dialect_options", {})
                             for ix in inspector.get_indexes(table.name)}
                for index in table.indexes:
                    declared = index.dialect_options[dialect].get("where")
                    found = reflected[index.name].get(f"{dialect}_where")
                    assert (declared is None) == (found is None), index.name
                    if declared is not None:
                        assert _predicate(found) == _predicate(declared), index.name
    finally:
        engine.dispose()


def test_check_constraints_are_the_ones_the_code_declares(database_url: str) -> None:
    """Autogenerate does not compare CHECK constraints either, so this compares their names."""
    migrate.upgrade(database_url, "head")
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            for table in metadata.tables.values():
                declared = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
                found = {c["name"] for c in inspector.get_check_constraints(table.name)}
                assert found == declared, table.name
    finally:
        engine.dispose()


def test_status_reports_current_and_head(database_url: str) -> None:
    head = revisions()[-1].revision
    assert migrate.status(database_url) == {"current": None, "head": head}
    migrate.upgrade(database_url)
    assert migrate.status(database_url) == {"current": head, "head": head}


def test_status_of_a_missing_sqlite_file_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "pantheon.db"
    status = migrate.status(f"sqlite+aiosqlite:///{missing}")
    assert status["current"] is None and status["head"] == revisions()[-1].revision
    assert not missing.parent.exists()


async def test_upgrade_runs_in_a_worker_thread_beside_a_running_loop(sqlite_url: str) -> None:
    await anyio.to_thread.run_sync(migrate.upgrade, sqlite_url, "head")
    status = await anyio.to_thread.run_sync(migrate.status, sqlite_url)
    assert status["current"] == status["head"]


async def _current_pricing(url: str) -> PricingVersion:
    database = Database(url)
    try:
        async with database.unit_of_work() as work:
            return await work.pricing.current()
    finally:
        await database.dispose()


async def test_0002_seeds_the_pricing_the_fake_serves_and_reseeds_it(database_url: str) -> None:
    await anyio.to_thread.run_sync(migrate.upgrade, database_url, "head")
    assert await _current_pricing(database_url) == SEED_PRICING
    await anyio.to_thread.run_sync(migrate.downgrade, database_url, "0001")
    await anyio.to_thread.run_sync(migrate.upgrade, database_url, "head")
    assert await _current_pricing(database_url) == SEED_PRICING


def _execute(url: str, *statements: tuple[str, Mapping[str, object]]) -> None:
    """Run raw SQL; ``:at`` is bound as the app binds timestamps."""
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as connection:
            for sql, params in statements:
                connection.execute(text(sql).bindparams(bindparam("at", type_=UTCDateTime())),
                                   params)
    finally:
        engine.dispose()


def _at(hour: int) -> datetime:
    return datetime(2026, 11, 1, hour, tzinfo=UTC)


async def test_0002_moves_earlier_turns_into_one_session_per_room(database_url: str) -> None:
    """Turns stored before sessions existed land in one session per room, owned by the
    room's owner and spanning those turns; downgrading keeps them (and drops direct-chat
    turns, which have no room)."""
    migrate.upgrade(database_url, "0001")
    turn = ("INSERT INTO turns (id, room_id, user_id, mode, status, message, roster, selected, "
            "created_at) VALUES (:id, :room, 'u1', 'manual', 'completed', 'hi', '[]', '[]', :at)")
    _execute(database_url,
             ("INSERT INTO users (id, email, status, created_at) "
              "VALUES ('u1', 'ada@example.com', 'active', :at)", {"at": _at(8)}),
             *[("INSERT INTO rooms (id, owner_id, name, description, current_mode, created_at, "
                "updated_at) VALUES (:id, 'u1', :id, '', 'manual', :at, :at)",
                {"id": room, "at": _at(8)}) for room in ("r1", "r2", "r3")],
             (turn, {"id": "t1", "room": "r1", "at": _at(9)}),
             (turn, {"id": "t2", "room": "r1", "at": _at(11)}),
             (turn, {"id": "t3", "room": "r2", "at": _at(10)}))
    await anyio.to_thread.run_sync(migrate.upgrade, database_url, "head")
    database = Database(database_url)
    try:
        async with database.unit_of_work() as work:
            turns = {t: await work.turns.get(TurnId(t)) for t in ("t1", "t2", "t3")}
            r1 = await work.sessions.latest_room_session(RoomId("r1"))
            r2 = await work.sessions.latest_room_session(RoomId("r2"))
            assert await work.sessions.latest_room_session(RoomId("r3")) is None
    finally:
        await database.dispose()
    assert r1 is not None and r2 is not None
    assert (r1.user_id, r1.created_at, r1.updated_at) == ("u1", _at(9), _at(11))
    assert [t.session_id for t in turns.values() if t] == [r1.id, r1.id, r2.id]
    _execute(database_url,
             ("INSERT INTO direct_sessions (id, user_id, agent, title, created_at, updated_at) "
              "VALUES ('d1', 'u1', '{}', 'Chat', :at, :at)", {"at": _at(12)}),
             ("INSERT INTO turns (id, user_id, direct_session_id, mode, status, message, roster, "
              "selected, created_at) VALUES ('t4', 'u1', 'd1', 'direct', 'completed', 'hi', "
              "'[]', '[]', :at)", {"at": _at(12)}))
    await anyio.to_thread.run_sync(migrate.downgrade, database_url, "0001")
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            kept = connection.scalars(text("SELECT id FROM turns ORDER BY id")).all()
    finally:
        engine.dispose()
    assert kept == ["t1", "t2", "t3"]
