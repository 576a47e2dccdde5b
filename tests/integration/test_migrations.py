"""Migrations: every step reversible, and the result equal to the tables the code uses."""

from __future__ import annotations

from pathlib import Path

import anyio
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import create_engine, inspect

from pantheon_adapters.sql import migrate
from pantheon_adapters.sql.tables import metadata
from pantheon_adapters.sql.urls import sync_url


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
