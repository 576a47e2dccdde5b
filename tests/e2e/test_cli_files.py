"""``pantheon files`` end to end, and tool calls in ``pantheon chat`` and ``turns show``:
real use cases, the real composition root (local file storage under the data directory,
the in-process job worker that parses files, the offline model that reads them) on
embedded SQLite, driven in-process with ``CliRunner``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from pantheon_cli.streaming import PanelSink
from pantheon_core.domain.events import TurnEvent
from tests.documents import (
    ELF,
    PNG,
    make_csv,
    make_docx,
    make_encrypted_pdf,
    make_pdf,
    make_pdf_zip_polyglot,
    make_plain_zip,
)
from tests.e2e.test_cli import BOB, Driver, isolated_driver
from tests.e2e.test_cli_chat import make_room, ndjson, of_type

MB = 1024 * 1024
PDF = make_pdf(["Launch plan: ship in March.", "Budget: 40k for ads."])
DOCS: dict[str, bytes] = {
    "plan.pdf": PDF,
    "risks.docx": make_docx(["Risks of the launch", "Supply chain delays"]),
    "notes.txt": b"Meeting notes\nWe agreed to ship in March.\n",
    "roadmap.md": b"# Roadmap\n\n- March: launch\n- April: review\n",
    "spend.csv": make_csv([["month", "spend"], ["March", "40000"], ["April", "12000"]]),
}


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Driver:
    driver = isolated_driver(tmp_path, monkeypatch)
    monkeypatch.setenv("PANTHEON_OFFLINE_WORD_DELAY_MS", "0")
    monkeypatch.chdir(tmp_path)
    return driver


@pytest.fixture
def blob_dir(tmp_path: Path) -> Path:
    return tmp_path / "data" / "files"


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / "in" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return str(path)


def stored_blobs(blob_dir: Path) -> list[Path]:
    return sorted(p for p in blob_dir.rglob("*") if p.is_file()) if blob_dir.exists() else []


def upload_json(cli: Driver, *args: str, exit_code: int = 0) -> list[dict[str, Any]]:
    result = cli("files", "upload", *args, "--json")
    assert result.exit_code == exit_code, result.output
    outcomes: list[dict[str, Any]] = json.loads(result.stdout)
    return outcomes


# --- uploads -------------------------------------------------------------------------------


def test_upload_every_allowed_type_waits_until_read_then_lists_them(
        cli: Driver, tmp_path: Path) -> None:
    make_room(cli, "roundtable", agents=(), name="Lab")
    paths = [write(tmp_path, name, data) for name, data in DOCS.items()]

    shown = cli.ok("files", "upload", "Lab", *paths).stdout
    assert "Uploads" in shown
    for name in DOCS:
        assert name in shown
    assert shown.count("ready") == len(DOCS)
    assert "2 pages" in shown

    listing = cli.json("files", "list", "Lab")
    files = {f["name"]: f for f in listing["files"]}
    assert set(files) == set(DOCS)
    assert {name: f["kind"] for name, f in files.items()} == {
        "plan.pdf": "pdf", "risks.docx": "docx", "notes.txt": "txt", "roadmap.md": "md",
        "spend.csv": "csv"}
    assert all(f["status"] == "ready" and f["text_chars"] > 0 for f in files.values())
    assert files["plan.pdf"]["pages"] == 2
    assert listing["used_bytes"] == sum(len(d) for d in DOCS.values())
    assert listing["limit_bytes"] == 100 * MB
    table = cli.ok("files", "list", "Lab").stdout
    assert "of 100.0 MB used" in table and "plan.pdf" in table


def test_upload_json_is_one_outcome_per_path(cli: Driver, tmp_path: Path) -> None:
    make_room(cli, "roundtable", agents=(), name="Lab")
    outcomes = upload_json(cli, "Lab", write(tmp_path, "notes.txt", DOCS["notes.txt"]))
    assert len(outcomes) == 1
    outcome = outcomes[0]
    assert outcome["error"] is None and outcome["path"].endswith("notes.txt")
    file = outcome["file"]
    assert (file["name"], file["kind"], file["status"]) == ("notes.txt", "txt", "ready")
    assert file["size_bytes"] == len(DOCS["notes.txt"]) and file["error"] is None
    assert cli.json("files", "show", file["id"]) == file


def test_upload_without_waiting_returns_at_once_and_the_file_is_read_later(
        cli: Driver, tmp_path: Path) -> None:
    make_room(cli, "roundtable", agents=(), name="Lab")
    [outcome] = upload_json(cli, "Lab", write(tmp_path, "plan.pdf", PDF), "--no-wait")
    assert outcome["file"]["status"] in {"uploaded", "parsing", "ready"}
    for _ in range(100):
        if cli.json("files", "show", outcome["file"]["id"])["status"] == "ready":
            break
    assert cli.json("files", "show", outcome["file"]["id"])["status"] == "ready"


def test_at_007_each_refused_file_is_reported_and_the_others_still_upload(
        cli: Driver, tmp_path: Path, blob_dir: Path) -> None:
    make_room(cli, "roundtable", agents=(), name="Lab")
    bad = {"photo.pdf": PNG, "tool.txt": ELF, "report.docx": make_plain_zip(),
           "paper.pdf": make_pdf_zip_polyglot(), "empty.txt": b""}
    paths = [write(tmp_path, name, data) for name, data in bad.items()]
    good = write(tmp_path, "notes.txt", DOCS["notes.txt"])

    outcomes = upload_json(cli, "Lab", *paths, good, str(tmp_path / "missing.txt"),
                           exit_code=1)
    codes = {Path(o["path"]).name: o["error"]["code"] if o["error"] else None for o in outcomes}
    assert codes == {"photo.pdf": "unsupported_file_type", "tool.txt": "unsupported_file_type",
                     "report.docx": "unsupported_file_type",
                     "paper.pdf": "unsupported_file_type", "empty.txt": "empty_file",
                     "notes.txt": None, "missing.txt": "not_a_file"}
    photo = next(o for o in outcomes if o["path"].endswith("photo.pdf"))
    assert photo["error"]["details"]["allowed"] == ["pdf", "docx", "txt", "md", "csv"]
    assert photo["error"]["details"]["detected"] == "png"

    shown = cli.error("files", "upload", "Lab", write(tmp_path, "again.pdf", PNG)).stdout
    assert "refused" in shown and "unsupported_file_type" in shown and "PNG image" in shown

    listing = cli.json("files", "list", "Lab")
    assert [f["name"] for f in listing["files"]] == ["notes.txt"]
    assert cli.json("files", "list", "Lab", "--deleted")["files"] == []
    kept = listing["files"][0]["id"]
    assert [p.relative_to(blob_dir).parts[:2] for p in stored_blobs(blob_dir)] == [
        ("files", kept), ("files", kept)]  # its original and its extracted text only


def test_a_file_that_cannot_be_read_is_kept_as_failed_and_exits_1(cli: Driver,
                                                                    tmp_path: Path) -> None:
    make_room(cli, "roundtable", agents=(), name="Lab")
    locked = write(tmp_path, "locked.pdf", make_encrypted_pdf(["secret plans"]))
    result = cli.error("files", "upload", "Lab", locked)
    assert "locked.pdf" in result.stdout and "failed" in result.stdout
    assert "file_unreadable" in result.stdout
    [file] = cli.json("files", "list", "Lab")["files"]
    assert (file["status"], file["error"]["code"]) == ("failed", "file_unreadable")


def test_at_007_an_oversize_file_is_refused_before_any_byte_is_sent(
        cli: Driver, tmp_path: Path, blob_dir: Path) -> None:
    make_room(cli, "roundtable", agents=(), name="Lab")
    big = write(tmp_path, "big.txt", b"a" * (10 * MB + 1))
    [outcome] = upload_json(cli, "Lab", big, exit_code=1)
    assert outcome["error"]["code"] == "file_too_large"
    assert outcome["error"]["details"] == {"max_bytes": 10 * MB}
    assert cli.json("files", "list", "Lab")["files"] == []
    assert stored_blobs(blob_dir) == []


def test_uploads_to_unknown_or_foreign_rooms_fail_as_one_error(cli: Driver,
                                                               tmp_path: Path) -> None:
    make_room(cli, "roundtable", agents=(), name="Lab")
    path = write(tmp_path, "notes.txt", DOCS["notes.txt"])
    assert "error[room_not_found]" in cli.error("files", "upload", "Nowhere", path).stderr
    assert "error[room_not_found]" in cli.error("files", "upload", "Lab", path,
                                                user=BOB).stderr
    usage = cli.error("files", "list", exit_code=2)
    assert "error[scope_required]" in usage.stderr
    assert "error[paths_required]" in cli.error("files", "upload", "Lab", exit_code=2).stderr


def test_a_direct_chat_has_its_own_files(cli: Driver, tmp_path: Path) -> None:
    session = cli.json("direct", "new", "--name", "Ana", "--model", "qwen", "--files")["id"]
    [outcome] = upload_json(cli, "--direct", session, write(tmp_path, "roadmap.md",
                                                            DOCS["roadmap.md"]))
    assert outcome["file"]["direct_session_id"] == session
    assert outcome["file"]["room_id"] is None
    listing = cli.json("files", "list", "--direct", session)
    assert [f["name"] for f in listing["files"]] == ["roadmap.md"]
    assert "error[direct_session_not_found]" in cli.error(
        "files", "list", "--direct", "no-such-chat").stderr


# --- download, delete, restore --------------------------------------------------------------


def test_download_writes_the_sanitised_name_here_and_never_overwrites(
        cli: Driver, tmp_path: Path) -> None:
    make_room(cli, "roundtable", agents=(), name="Lab")
    [outcome] = upload_json(cli, "Lab", write(tmp_path, 'a:b|c".pdf', PDF))
    file = outcome["file"]
    assert file["name"] == "a_b_c_.pdf"

    saved = cli.ok("files", "download", file["id"]).stdout
    assert "Saved a_b_c_.pdf" in saved
    assert (tmp_path / "a_b_c_.pdf").read_bytes() == PDF

    (tmp_path / "a_b_c_.pdf").write_bytes(b"mine")
    refused = cli.error("files", "download", file["id"])
    assert "error[output_exists]" in refused.stderr and "--force" in refused.stderr
    assert (tmp_path / "a_b_c_.pdf").read_bytes() == b"mine"
    cli.ok("files", "download", file["id"], "--force")
    assert (tmp_path / "a_b_c_.pdf").read_bytes() == PDF

    out = tmp_path / "out"
    out.mkdir()
    into_dir = cli.json("files", "download", file["id"], "-o", str(out))
    assert into_dir["path"] == str(out / "a_b_c_.pdf") and into_dir["bytes"] == len(PDF)
    named = cli.json("files", "download", file["id"], "-o", str(out / "copy.pdf"))
    assert (out / "copy.pdf").read_bytes() == PDF and named["file"]["id"] == file["id"]
    assert sorted(p.name for p in out.iterdir()) == ["a_b_c_.pdf", "copy.pdf"]  # no leftovers


def test_delete_hides_the_file_and_restore_brings_it_back(cli: Driver, tmp_path: Path) -> None:
    make_room(cli, "roundtable", agents=(), name="Lab")
    [outcome] = upload_json(cli, "Lab", write(tmp_path, "notes.txt", DOCS["notes.txt"]))
    file_id = outcome["file"]["id"]

    deleted = cli.ok("files", "delete", file_id).stdout
    assert "Deleted notes.txt" in deleted and f"pantheon files restore {file_id}" in deleted
    assert cli.json("files", "list", "Lab")["files"] == []
    assert cli.json("files", "list", "Lab")["used_bytes"] == 0
    trash = cli.json("files", "list", "Lab", "--deleted")["files"]
    assert [f["id"] for f in trash] == [file_id] and trash[0]["deleted_at"]
    assert "Restore by" in cli.ok("files", "list", "Lab", "--deleted").stdout
    assert "error[file_not_found]" in cli.error("files", "download", file_id).stderr

    assert f"Restored notes.txt ({file_id})" in cli.ok("files", "restore", file_id).stdout
    assert [f["id"] for f in cli.json("files", "list", "Lab")["files"]] == [file_id]
    assert "error[file_not_found]" in cli.error("files", "show", file_id, user=BOB).stderr


# --- tool calls in chat and turns show --------------------------------------------------------


def test_chat_shows_tool_calls_as_they_happen_and_turns_show_lists_them(
        cli: Driver, tmp_path: Path) -> None:
    make_room(cli, "roundtable", agents=(), name="Lab")
    cli.ok("agents", "add", "Lab", "Ada", "--model", "qwen", "--files")
    upload_json(cli, "Lab", write(tmp_path, "notes.txt", DOCS["notes.txt"]))

    shown = cli.ok("chat", "Lab", "When do we ship? And call web_search too").stdout
    read_line = "  ↳ read_file("
    assert read_line in shown and "read 42 characters of notes.txt" in shown
    assert "  ✗ web_search denied: You do not have permission to search the web." in shown
    assert shown.index(read_line) < shown.index("Ada (@Ada)") < shown.index("✓ completed")
    assert shown.count("read 42 characters of notes.txt") == 1  # not repeated in the panel

    events = ndjson(cli.ok("chat", "Lab", "When do we ship?", "--json").stdout)
    started, completed = of_type(events, "tool_started"), of_type(events, "tool_completed")
    assert [e["data"]["tool"] for e in started] == ["read_file"]
    assert completed[0]["data"]["status"] == "allowed"
    assert completed[0]["data"]["file"]["chars"] == 42
    assert started[0]["seq"] < completed[0]["seq"] < of_type(events, "step_completed")[0]["seq"]

    turn_id = events[0]["turn_id"]
    step = cli.json("turns", "show", turn_id)["steps"][0]
    assert [(c["tool"], c["status"]) for c in step["tool_calls"]] == [("read_file", "allowed")]
    assert step["tool_calls"][0]["file"]["chars"] == 42
    panel = cli.ok("turns", "show", turn_id).stdout
    assert "↳ read_file(" in panel and "read 42 characters of notes.txt" in panel

    timeline = cli.json("rooms", "timeline", "Lab")["entries"]
    first = timeline[0]["steps"][0]["tool_calls"]
    assert [(c["tool"], c["status"]) for c in first] == [("read_file", "allowed"),
                                                         ("web_search", "denied")]
    assert first[1]["error"]["code"] == "tool_not_permitted"


def test_a_live_terminal_shows_the_call_in_flight_then_its_line(cli: Driver,
                                                                 tmp_path: Path) -> None:
    make_room(cli, "roundtable", agents=(), name="Lab")
    cli.ok("agents", "add", "Lab", "Ada", "--model", "qwen", "--files")
    upload_json(cli, "Lab", write(tmp_path, "notes.txt", DOCS["notes.txt"]))
    raw = ndjson(cli.ok("chat", "Lab", "When do we ship?", "--json").stdout)
    events = [TurnEvent.from_dict(e) for e in raw]
    buffer = io.StringIO()
    sink = PanelSink(Console(file=buffer, force_terminal=True, width=100, height=30,
                             color_system=None, highlight=False))
    screens: list[str] = []
    with sink:
        for event in events:
            sink.add(event)
            screens.append(buffer.getvalue())
    started = next(i for i, e in enumerate(events) if e.type.value == "tool_started")
    in_flight = screens[started]
    assert "read_file(" in in_flight and "read 42 characters" not in in_flight  # running
    final = buffer.getvalue()
    assert final.count("  ↳ read_file(") == 1  # printed once, when it completed
    assert "read 42 characters of notes.txt" in final
