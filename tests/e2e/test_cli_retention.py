"""``pantheon`` retention end to end on embedded SQLite: delete and restore agents and direct
chats, ``pantheon retention run --dry-run`` changing nothing and counting what the real run
then purges (rows and stored files), restore answering ``restore_window_expired`` after it,
and both runs recorded in ``pantheon jobs runs``.

The CLI runs on the system clock, so the tests make data old by moving its timestamps back
in the database file (``sqlite3``), as days passing would.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli import Driver, isolated_driver, make_room

LONG_AGO = "2000-01-01 00:00:00.000000"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Driver:
    return isolated_driver(tmp_path, monkeypatch)


def database(tmp_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(tmp_path / "data" / "pantheon.db")


def age(tmp_path: Path, *statements: str) -> None:
    with database(tmp_path) as db:
        for statement in statements:
            db.execute(statement)


def dump(tmp_path: Path) -> list[str]:
    with database(tmp_path) as db:
        return list(db.iterdump())


def stored_files(tmp_path: Path) -> list[Path]:
    root = tmp_path / "data" / "files"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def rows(report: dict[str, Any], job: str) -> dict[str, int]:
    [found] = [j for j in report["jobs"] if j["job"] == job]
    return {k["kind"]: k["rows"] for k in found["kinds"] if k["rows"]}


def test_agents_are_removed_and_restored(cli: Driver) -> None:
    make_room(cli, "Lab", ["Ana", "Bo"])
    removed = cli.ok("agents", "remove", "Lab", "Ana")
    assert "pantheon agents restore" in removed.stdout
    trash = cli.json("agents", "list", "Lab", "--deleted")
    assert [a["name"] for a in trash] == ["Ana"] and trash[0]["restorable_until"]
    assert "Removed agents" in cli.ok("agents", "list", "Lab", "--deleted").stdout
    restored = cli.json("agents", "restore", "Lab", "ana")
    assert (restored["name"], restored["position"], restored["removed_at"]) == ("Ana", 1, None)
    again = cli.error("agents", "restore", "Lab", "Ana")
    assert again.stderr.startswith("error[agent_not_deleted]")
    assert cli.error("agents", "restore", "Lab", "Nobody").stderr.startswith(
        "error[agent_not_found]")


def test_direct_chats_are_deleted_and_restored(cli: Driver) -> None:
    chat = cli.json("direct", "new", "--name", "Cleo", "--model", "qwen")
    deleted = cli.ok("direct", "delete", chat["id"])
    assert f"pantheon direct restore {chat['id']}" in deleted.stdout
    assert cli.json("direct", "list") == []
    assert [s["id"] for s in cli.json("direct", "list", "--deleted")] == [chat["id"]]
    assert cli.error("direct", "history", chat["id"]).stderr.startswith(
        "error[direct_session_not_found]")
    assert cli.json("direct", "restore", chat["id"])["deleted_at"] is None
    assert [s["id"] for s in cli.json("direct", "list")] == [chat["id"]]
    assert cli.error("direct", "restore", chat["id"]).stderr.startswith(
        "error[direct_session_not_deleted]")


def test_retention_run_dry_run_changes_nothing_then_the_run_purges(
        cli: Driver, tmp_path: Path) -> None:
    room_id = make_room(cli, "Lab", ["Ana", "Bo"])
    notes = tmp_path / "notes.txt"
    notes.write_text("Ship in March.\n", encoding="utf-8")
    cli.ok("files", "upload", "Lab", str(notes))
    chat = cli.json("direct", "new", "--name", "Cleo", "--model", "qwen")
    cli.ok("agents", "remove", "Lab", "Bo")
    cli.ok("rooms", "delete", "Lab")
    cli.ok("direct", "delete", chat["id"])
    age(tmp_path, f"UPDATE rooms SET deleted_at = '{LONG_AGO}' WHERE deleted_at IS NOT NULL",
        f"UPDATE direct_sessions SET deleted_at = '{LONG_AGO}' WHERE deleted_at IS NOT NULL")
    before, files_before = dump(tmp_path), stored_files(tmp_path)
    assert len(files_before) == 2  # the upload and its extracted text

    dry = cli.json("retention", "run", "--dry-run", user=None)
    assert dump(tmp_path) == before and stored_files(tmp_path) == files_before
    expected = {"rooms": 1, "agents": 2, "direct_sessions": 1, "files": 1}
    assert rows(dry, "purge_deleted") == expected
    table = cli.ok("retention", "run", "--dry-run", user=None).stdout
    assert "purge_deleted — would purge" in table and "Dry run: nothing was changed" in table
    assert dump(tmp_path) == before

    real = cli.json("retention", "run", user=None)
    assert rows(real, "purge_deleted") == expected
    [deleted_job] = [j for j in real["jobs"] if j["job"] == "purge_deleted"]
    assert (deleted_job["blobs"], deleted_job["blobs_deleted"]) == (2, 2)
    assert stored_files(tmp_path) == []
    gone = cli.error("rooms", "restore", room_id)
    assert gone.stderr.startswith("error[restore_window_expired]")
    assert cli.error("direct", "restore", chat["id"]).stderr.startswith(
        "error[restore_window_expired]")
    runs = cli.json("jobs", "runs", user=None)
    assert {(r["name"], r["status"]) for r in runs} >= {("purge_deleted", "succeeded"),
                                                        ("purge_expired_content", "succeeded")}
    again = cli.json("retention", "run", user=None)
    assert all(rows(again, job["job"]) == {} for job in again["jobs"])


def test_retention_run_purges_old_content_and_keeps_the_room(cli: Driver,
                                                             tmp_path: Path) -> None:
    make_room(cli, "Lab", ["Ana"])
    notes = tmp_path / "notes.txt"
    notes.write_text("Old notes.\n", encoding="utf-8")
    cli.ok("files", "upload", "Lab", str(notes))
    age(tmp_path, f"UPDATE files SET created_at = '{LONG_AGO}'")
    report = cli.json("retention", "run", user=None)
    assert rows(report, "purge_expired_content") == {"files": 1}
    assert stored_files(tmp_path) == []
    assert [a["name"] for a in cli.json("agents", "list", "Lab")] == ["Ana"]


def test_retention_run_is_for_owners_and_the_operator(cli: Driver) -> None:
    cli.ok("rooms", "list")  # ann exists, with no role
    assert cli.error("retention", "run").stderr.startswith("error[owner_required]")
    assert cli.error("retention", "run", "--dry-run").stderr.startswith(
        "error[admin_required]")
