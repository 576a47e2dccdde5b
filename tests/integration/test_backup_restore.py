"""The restore runbook's backup and restore commands bring back a working database.

``docs/runbooks/restore-backup.md`` dumps the ``public`` schema with ``pg_dump`` and restores it
into an empty database with ``pg_restore``, leaving out the creation of ``public`` (every
database has it). This runs exactly those commands on PostgreSQL, after real turns and charges,
and checks the copy: same rows, the schema at head, the wallets agreeing with their ledgers,
the ledger still append-only.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from pantheon_adapters.sql import migrate
from pantheon_adapters.sql.database import Database
from pantheon_adapters.sql.tables import credit_transactions, metadata
from pantheon_core.actor import Actor
from tests.integration.billing_helpers import billing_app, usage_of
from tests.services import throwaway_postgres, unavailable

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "runbooks" / "restore-backup.md"
PG_DUMP = ["--format=custom", "--no-owner", "--no-privileges", "--schema=public"]
LIST_FILTER = " SCHEMA - public | COMMENT - SCHEMA public "
PG_RESTORE = ["--no-owner", "--no-privileges", "--exit-on-error"]


def test_the_runbook_cites_the_commands_tested_here() -> None:
    runbook = RUNBOOK.read_text(encoding="utf-8")
    assert f"pg_dump {' '.join(PG_DUMP)} --dbname=" in runbook
    assert f"grep -v -E '{LIST_FILTER}' > restore.list" in runbook
    assert f"pg_restore --use-list=restore.list {' '.join(PG_RESTORE)} --dbname=" in runbook


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        unavailable(f"{name} is not installed (PostgreSQL client programs)")
    assert path is not None
    return path


def _run(*command: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def backup_and_restore(source: str, target: str, folder: Path) -> None:
    """The runbook's steps: dump, list without ``public`` itself, restore into ``target``."""
    dump, listing = folder / "pantheon.dump", folder / "restore.list"
    _run(_tool("pg_dump"), *PG_DUMP, f"--dbname={source}", f"--file={dump}")
    entries = _run(_tool("pg_restore"), "--list", str(dump)).splitlines()
    listing.write_text("\n".join(e for e in entries if not re.search(LIST_FILTER, e)) + "\n",
                       encoding="utf-8")
    _run(_tool("pg_restore"), f"--use-list={listing}", *PG_RESTORE, f"--dbname={target}",
         str(dump))


async def _row_counts(url: str) -> dict[str, int]:
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            counts = {}
            for table in [*metadata.sorted_tables]:
                query = select(func.count()).select_from(table)
                counts[table.name] = int((await connection.execute(query)).scalar_one())
            version = (await connection.execute(text("SELECT version_num FROM alembic_version")))
            counts["alembic_version"] = len(version.all())
            return counts
    finally:
        await database.dispose()


def _async(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


async def test_a_backup_restores_into_an_empty_database(tmp_path: Path) -> None:
    with throwaway_postgres() as source, throwaway_postgres() as target:
        async with billing_app(_async(source)) as app:
            ada = await app.uc.act_as(Actor.operator(), "ada@example.com")
            room = await app.uc.create_room(ada, name="Research")
            for name, alias in (("Ana", "deepseek"), ("Bo", "qwen")):
                await app.uc.add_agent(ada, room.id, name=name, model_alias=alias)
            for question in ("One?", "Two?"):
                await app.uc.send_to_room(ada, room.id, question)
                await app.tasks.wait_idle()
            calls = len(await usage_of(app, ada.require_user()))
        before = await _row_counts(_async(source))
        assert calls == 4 and before["credit_transactions"] > 0

        backup_and_restore(source, target, tmp_path)

        assert await _row_counts(_async(target)) == before
        assert migrate.status(_async(target))["current"] == migrate.status(_async(source))["head"]
        async with billing_app(_async(target)) as restored:  # upgrade head: nothing to do
            report = await restored.uc.reconcile(Actor.operator())
            assert report.discrepancies == []
            assert (report.usage_rows, report.wallets) == (4, 1)
            with pytest.raises(DBAPIError, match="append-only"):
                async with restored.database.engine.begin() as connection:
                    await connection.execute(update(credit_transactions).values(amount=0))


async def test_restoring_over_existing_data_is_refused(tmp_path: Path) -> None:
    """The runbook restores into an *empty* database: into one that already holds the
    tables, ``--exit-on-error`` stops at the first conflict instead of mixing two states."""
    with throwaway_postgres() as source, throwaway_postgres() as target:
        migrate.upgrade(_async(source), "head")
        migrate.upgrade(_async(target), "head")
        with pytest.raises(AssertionError, match="already exists"):
            backup_and_restore(source, target, tmp_path)
