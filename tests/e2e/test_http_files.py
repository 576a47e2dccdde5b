"""Files over HTTP (FR-TOOL-003/004, NFR-SEC-003, AT-007): request an upload link, PUT the
bytes, watch the file get read, list, download through a signed link, delete and restore;
and every bad upload refused with its own code, leaving nothing stored.

The app runs on the in-memory fakes with a real ``LocalBlobStore`` (under ``tmp_path``) and
the real ``LocalDocumentParser``. There is no job queue, so a file is parsed as soon as its
upload finishes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from pantheon_adapters.documents.parser import LocalDocumentParser
from pantheon_adapters.storage.local import LocalBlobStore
from pantheon_core.domain.files import ALLOWED_KINDS, MAX_FILE_BYTES
from pantheon_core.ports.chat_model import ToolCall
from pantheon_core.usecases.deps import FilePolicy
from tests.documents import (
    ELF,
    PNG,
    make_csv,
    make_docx,
    make_encrypted_pdf,
    make_pdf,
    make_pdf_zip_polyglot,
    make_plain_zip,
    make_xlsx_like_zip,
    make_zip_bomb,
)
from tests.e2e.conftest import (
    BASE_URL,
    Json,
    assert_error,
    chat_room,
    make_api,
    make_settings,
    served,
    sign_in,
    sse_events,
    with_files,
)
from tests.fake_chat import Reply
from tests.fakes import FakeApp, fake_app

FILE_FIELDS = {"id", "name", "kind", "content_type", "size_bytes", "sha256", "status", "error",
               "pages", "text_chars", "created_at", "updated_at", "deleted_at", "restorable_until",
               "room_id", "direct_session_id"}
POLICY = FilePolicy(url_base=f"{BASE_URL}/api/v1")

PDF = make_pdf(["Launch plan: ship in March.", "Budget: 40k for ads."])
DOCX = make_docx(["Risks of the launch", "Supply chain delays"], table=[["risk", "owner"],
                                                                       ["delay", "Ana"]])
TXT = b"Meeting notes\nWe agreed to ship in March.\n"
MD = b"# Roadmap\n\n- March: launch\n- April: review\n"
CSV = make_csv([["month", "spend"], ["March", "40000"], ["April", "12000"]])


@pytest.fixture
def blob_dir(tmp_path: Path) -> Path:
    return tmp_path / "blobs"


@pytest.fixture
def file_policy(request: pytest.FixtureRequest) -> FilePolicy:
    """The file policy; a test narrows it with ``@pytest.mark.parametrize(…, indirect=True)``."""
    policy: FilePolicy = getattr(request, "param", POLICY)
    return policy


@pytest.fixture
def fake(blob_dir: Path, file_policy: FilePolicy) -> FakeApp:
    return with_files(fake_app(), LocalBlobStore(blob_dir), documents=LocalDocumentParser(),
                      policy=file_policy)


def stored_blobs(blob_dir: Path) -> list[Path]:
    return [p for p in blob_dir.rglob("*") if p.is_file()] if blob_dir.exists() else []


async def new_room(client: httpx.AsyncClient, name: str = "Lab") -> Json:
    response = await client.post("/api/v1/rooms", json={"name": name})
    assert response.status_code == 201, response.text
    room: Json = response.json()
    return room


async def ticket_for(client: httpx.AsyncClient, room: Json, filename: str,
                     size_bytes: int | None = None) -> Json:
    response = await client.post(f"/api/v1/rooms/{room['id']}/files",
                                 json={"filename": filename, "size_bytes": size_bytes})
    assert response.status_code == 201, response.text
    ticket: Json = response.json()
    return ticket


async def put_bytes(client: httpx.AsyncClient, ticket: Json, data: bytes) -> httpx.Response:
    """Send the bytes where the ticket says, the way any client would (no credentials)."""
    assert ticket["method"] == "PUT"
    return await client.put(ticket["upload_url"], content=data,
                            headers={"Content-Type": "application/octet-stream"})


async def upload(client: httpx.AsyncClient, anonymous: httpx.AsyncClient, room: Json,
                 filename: str, data: bytes) -> Json:
    ticket = await ticket_for(client, room, filename, len(data))
    response = await put_bytes(anonymous, ticket, data)
    assert response.status_code == 201, response.text
    file: Json = response.json()
    return file


async def get_file(client: httpx.AsyncClient, file_id: str) -> Json:
    response = await client.get(f"/api/v1/files/{file_id}")
    assert response.status_code == 200, response.text
    file: Json = response.json()
    return file


async def listing(client: httpx.AsyncClient, room: Json, *, deleted: bool = False) -> Json:
    response = await client.get(f"/api/v1/rooms/{room['id']}/files",
                                params={"deleted": str(deleted).lower()})
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


def token_of(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1]


async def assert_nothing_stored(client: httpx.AsyncClient, fake: FakeApp, room: Json,
                                blob_dir: Path) -> None:
    assert (await listing(client, room))["files"] == []
    assert (await listing(client, room, deleted=True))["files"] == []
    assert (await listing(client, room))["used_bytes"] == 0
    assert fake.store.files == {}
    assert stored_blobs(blob_dir) == []


# --- happy paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(("filename", "data", "kind", "content_type", "pages", "says"), [
    ("plan.pdf", PDF, "pdf", "application/pdf", 2, "Budget: 40k"),
    ("risks.docx", DOCX, "docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 0,
     "Supply chain delays"),
    ("notes.txt", TXT, "txt", "text/plain; charset=utf-8", 0, "ship in March"),
    ("roadmap.md", MD, "md", "text/markdown; charset=utf-8", 0, "April: review"),
    ("spend.csv", CSV, "csv", "text/csv; charset=utf-8", 0, "March"),
], ids=["pdf", "docx", "txt", "md", "csv"])
async def test_each_allowed_type_uploads_and_becomes_ready(
        alice: httpx.AsyncClient, client: httpx.AsyncClient, fake: FakeApp, blob_dir: Path,
        filename: str, data: bytes, kind: str, content_type: str, pages: int, says: str) -> None:
    room = await new_room(alice)
    ticket = await ticket_for(alice, room, filename, len(data))
    assert set(ticket) == {"file_id", "name", "upload_url", "method", "expires_at", "max_bytes"}
    assert (ticket["name"], ticket["method"], ticket["max_bytes"]) == (filename, "PUT",
                                                                       MAX_FILE_BYTES)
    assert ticket["upload_url"].startswith(f"{BASE_URL}/api/v1/uploads/")

    response = await put_bytes(client, ticket, data)  # no credentials: the link is one
    assert response.status_code == 201, response.text
    uploaded = response.json()
    assert set(uploaded) == FILE_FIELDS
    assert uploaded["id"] == ticket["file_id"] and uploaded["room_id"] == room["id"]
    assert (uploaded["kind"], uploaded["content_type"]) == (kind, content_type)
    assert uploaded["size_bytes"] == len(data)
    assert uploaded["sha256"] == hashlib.sha256(data).hexdigest()
    assert uploaded["direct_session_id"] is None and uploaded["deleted_at"] is None

    ready = await get_file(alice, uploaded["id"])
    assert ready["status"] == "ready", ready
    assert ready["error"] is None and ready["pages"] == pages and ready["text_chars"] > 0
    text_key = fake.store.files[uploaded["id"]].text_key
    assert text_key is not None and says in (blob_dir / text_key).read_text("utf-8")


async def test_a_file_that_cannot_be_read_ends_failed_with_its_reason(
        alice: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    room = await new_room(alice)
    file = await upload(alice, client, room, "locked.pdf", make_encrypted_pdf(["secret"]))
    failed = await get_file(alice, file["id"])
    assert failed["status"] == "failed" and failed["text_chars"] == 0
    assert failed["error"]["code"] == "file_unreadable" and failed["error"]["message"]
    assert [f["status"] for f in (await listing(alice, room))["files"]] == ["failed"]


async def test_listing_shows_every_file_newest_first_with_used_bytes(
        alice: httpx.AsyncClient, client: httpx.AsyncClient, fake: FakeApp) -> None:
    room = await new_room(alice)
    first = await upload(alice, client, room, "notes.txt", TXT)
    fake.clock.advance(seconds=1)
    second = await upload(alice, client, room, "plan.pdf", PDF)

    body = await listing(alice, room)
    assert set(body) == {"files", "used_bytes", "limit_bytes"}
    assert [f["id"] for f in body["files"]] == [second["id"], first["id"]]
    assert all(set(f) == FILE_FIELDS for f in body["files"])
    assert body["used_bytes"] == len(TXT) + len(PDF)
    assert body["limit_bytes"] == 100 * 1024 * 1024


async def test_an_upload_over_the_json_body_limit_streams_to_the_file_limit(
        alice: httpx.AsyncClient, client: httpx.AsyncClient, blob_dir: Path) -> None:
    """The upload route is exempt from the 1 MiB cap on JSON bodies."""
    room = await new_room(alice)
    data = b"line of a long report, repeated to fill a few megabytes\n" * 60_000  # ~3.4 MB
    file = await upload(alice, client, room, "long.txt", data)
    assert file["size_bytes"] == len(data) > 1024 * 1024
    assert (await get_file(alice, file["id"]))["status"] == "ready"
    assert len(stored_blobs(blob_dir)) == 2  # the original and its extracted text


async def test_download_streams_the_bytes_through_a_signed_link_with_safe_headers(
        alice: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    room = await new_room(alice)
    file = await upload(alice, client, room, '../Rapport "final" é.pdf', PDF)
    assert file["name"] == 'Rapport _final_ é.pdf'  # last path part only, quotes replaced

    link = await alice.post(f"/api/v1/files/{file['id']}/download")
    assert link.status_code == 200, link.text
    assert set(link.json()) == {"url", "expires_at"}
    response = await client.get(link.json()["url"])  # no credentials: the link is one
    assert response.status_code == 200, response.text
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-length"] == str(len(PDF))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"Rapport _final_ _.pdf\"; "
        "filename*=UTF-8''Rapport%20_final_%20%C3%A9.pdf")


async def test_a_download_link_expires_and_cannot_be_forged(
        alice: httpx.AsyncClient, client: httpx.AsyncClient, fake: FakeApp) -> None:
    room = await new_room(alice)
    file = await upload(alice, client, room, "notes.txt", TXT)
    url = (await alice.post(f"/api/v1/files/{file['id']}/download")).json()["url"]
    token = token_of(url)

    forged = await client.get(f"/api/v1/downloads/{flip(token, 3)}")
    assert_error(forged, 403, "invalid_signature")
    upload_token = token_of((await ticket_for(alice, room, "other.txt"))["upload_url"])
    assert_error(await client.get(f"/api/v1/downloads/{upload_token}"), 403,
                 "invalid_signature")  # signed for another purpose

    fake.clock.advance(minutes=6)
    error = assert_error(await client.get(url), 410, "download_expired")
    assert "expired_at" in error["details"]


async def test_soft_delete_hides_the_file_and_restore_brings_it_back(
        alice: httpx.AsyncClient, client: httpx.AsyncClient, blob_dir: Path) -> None:
    room = await new_room(alice)
    file = await upload(alice, client, room, "notes.txt", TXT)

    deleted = await alice.delete(f"/api/v1/files/{file['id']}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["deleted_at"] is not None
    assert (datetime.fromisoformat(deleted.json()["restorable_until"])
            - datetime.fromisoformat(deleted.json()["deleted_at"])) == timedelta(days=7)
    assert (await listing(alice, room)) == {"files": [], "used_bytes": 0,
                                           "limit_bytes": 100 * 1024 * 1024}
    trash = await listing(alice, room, deleted=True)
    assert [f["id"] for f in trash["files"]] == [file["id"]]
    assert_error(await alice.post(f"/api/v1/files/{file['id']}/download"), 404,
                 "file_not_found")
    assert len(stored_blobs(blob_dir)) == 2  # kept for the restore window

    restored = await alice.post(f"/api/v1/files/{file['id']}/restore")
    assert restored.status_code == 200, restored.text
    assert restored.json()["deleted_at"] is None and restored.json()["status"] == "ready"
    assert restored.json()["restorable_until"] is None
    assert [f["id"] for f in (await listing(alice, room))["files"]] == [file["id"]]
    assert (await listing(alice, room))["used_bytes"] == len(TXT)


async def test_a_direct_chat_has_its_own_files(alice: httpx.AsyncClient,
                                               client: httpx.AsyncClient) -> None:
    created = await alice.post("/api/v1/direct-sessions", json={
        "agent": {"name": "Ana", "model_alias": "qwen", "tools": {"files": True}}})
    assert created.status_code == 201, created.text
    session = created.json()
    ticket = await alice.post(f"/api/v1/direct-sessions/{session['id']}/files",
                              json={"filename": "notes.md"})
    assert ticket.status_code == 201, ticket.text
    uploaded = await put_bytes(client, ticket.json(), MD)
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["direct_session_id"] == session["id"]
    assert uploaded.json()["room_id"] is None

    listed = await alice.get(f"/api/v1/direct-sessions/{session['id']}/files")
    assert listed.status_code == 200, listed.text
    assert [f["name"] for f in listed.json()["files"]] == ["notes.md"]
    assert listed.json()["used_bytes"] == len(MD)


async def test_someone_elses_file_is_404_everywhere(alice: httpx.AsyncClient,
                                                    bob: httpx.AsyncClient,
                                                    client: httpx.AsyncClient) -> None:
    room = await new_room(alice)
    file = await upload(alice, client, room, "notes.txt", TXT)
    for response in (await bob.get(f"/api/v1/files/{file['id']}"),
                     await bob.delete(f"/api/v1/files/{file['id']}"),
                     await bob.post(f"/api/v1/files/{file['id']}/restore"),
                     await bob.post(f"/api/v1/files/{file['id']}/download")):
        assert_error(response, 404, "file_not_found")
    assert_error(await bob.get(f"/api/v1/rooms/{room['id']}/files"), 404, "room_not_found")
    assert (await get_file(alice, file["id"]))["deleted_at"] is None


async def test_tool_events_reach_the_stream_and_the_snapshot(
        alice: httpx.AsyncClient, client: httpx.AsyncClient, fake: FakeApp) -> None:
    """``tool_started``/``tool_completed`` pass through SSE, and the snapshot's step lists
    the calls: one file read, one denied web search."""
    room = await chat_room(alice, "Ana")
    agent_id = (await alice.get(f"/api/v1/rooms/{room['id']}")).json()["agents"][0]["id"]
    patched = await alice.patch(f"/api/v1/rooms/{room['id']}/agents/{agent_id}",
                                json={"tools": {"files": True}})
    assert patched.status_code == 200, patched.text
    file = await upload(alice, client, room, "notes.txt", TXT)
    fake.chat.queue("worker", Reply(tool_calls=(
        ToolCall(id="c1", name="read_file", arguments=json.dumps({"file_id": file["id"]})),
        ToolCall(id="c2", name="web_search", arguments='{"query": "launch news"}'))),
        Reply(text="We ship in March."))

    response = await alice.post(f"/api/v1/rooms/{room['id']}/messages",
                                json={"content": "What did we agree?"},
                                headers={"Accept": "text/event-stream"})
    assert response.status_code == 200, response.text
    events = sse_events(response.text)
    kinds = [e["type"] for e in events]
    assert kinds.count("tool_started") == 2 and kinds.count("tool_completed") == 2
    assert kinds.index("tool_completed") < kinds.index("step_completed")
    started = next(e for e in events if e["type"] == "tool_started")
    assert set(started["data"]) == {"call_id", "tool", "round", "arguments"}
    read, search = [e["data"] for e in events if e["type"] == "tool_completed"]
    assert (read["tool"], read["status"]) == ("read_file", "allowed")
    assert read["file"]["file_id"] == file["id"] and read["file"]["chars"] == len(TXT.decode())
    assert (search["tool"], search["status"]) == ("web_search", "denied")
    assert search["error"]["code"] == "tool_not_permitted"

    turn_id = events[0]["turn_id"]
    snapshot = (await alice.get(f"/api/v1/turns/{turn_id}")).json()
    step = snapshot["timeline"]["steps"][0]
    assert [(c["tool"], c["status"]) for c in step["tool_calls"]] == [
        ("read_file", "allowed"), ("web_search", "denied")]
    assert step["data"]["files_read"][0]["file_id"] == file["id"]
    timeline = (await alice.get(f"/api/v1/rooms/{room['id']}/timeline")).json()
    stored = timeline["entries"][-1]["messages"][1]
    assert [c["tool"] for c in stored["data"]["tool_calls"]] == ["read_file", "web_search"]


# --- AT-007: every bad upload is refused clearly and stores nothing ---------------------------


def flip(token: str, index: int) -> str:
    """``token`` with the character at ``index`` changed (still a base64url character)."""
    swapped = "B" if token[index] == "A" else "A"
    return token[:index] + swapped + token[index + 1:]


@pytest.mark.parametrize(("filename", "data", "status", "code", "detected"), [
    ("photo.pdf", PNG, 415, "unsupported_file_type", "png"),
    ("notes.txt", ELF, 415, "unsupported_file_type", "elf"),
    ("report.docx", make_plain_zip(), 415, "unsupported_file_type", "zip"),
    ("budget.docx", make_xlsx_like_zip(), 415, "unsupported_file_type", "xlsx"),
    ("paper.pdf", make_pdf_zip_polyglot(), 415, "unsupported_file_type", "pdf+zip"),
    ("bomb.docx", make_zip_bomb(60), 422, "unsafe_file", None),
], ids=["png-named-pdf", "elf-named-txt", "zip-posing-as-docx", "xlsx-posing-as-docx",
        "pdf-zip-polyglot", "zip-bomb-docx"])
async def test_at_007_content_that_is_not_an_allowed_type_is_refused(
        alice: httpx.AsyncClient, client: httpx.AsyncClient, fake: FakeApp, blob_dir: Path,
        filename: str, data: bytes, status: int, code: str, detected: str | None) -> None:
    room = await new_room(alice)
    ticket = await ticket_for(alice, room, filename, len(data))
    error = assert_error(await put_bytes(client, ticket, data), status, code)
    if code == "unsupported_file_type":
        assert error["details"]["allowed"] == list(ALLOWED_KINDS)
        assert error["details"]["detected"] == detected
        assert "PDF, DOCX, TXT, MD, CSV" in error["message"]
    else:
        assert error["details"]["reason"]
    await assert_nothing_stored(alice, fake, room, blob_dir)


async def test_at_007_an_empty_file_is_refused(alice: httpx.AsyncClient,
                                               client: httpx.AsyncClient, fake: FakeApp,
                                               blob_dir: Path) -> None:
    room = await new_room(alice)
    ticket = await ticket_for(alice, room, "empty.txt", 0)
    error = assert_error(await put_bytes(client, ticket, b""), 422, "empty_file")
    assert error["details"] == {"allowed_min_bytes": 1}
    await assert_nothing_stored(alice, fake, room, blob_dir)


async def test_at_007_an_oversize_file_is_refused_declared_or_streamed(
        alice: httpx.AsyncClient, client: httpx.AsyncClient, fake: FakeApp,
        blob_dir: Path) -> None:
    room = await new_room(alice)
    too_big = MAX_FILE_BYTES + 1
    asked = await alice.post(f"/api/v1/rooms/{room['id']}/files",
                             json={"filename": "big.txt", "size_bytes": too_big})
    assert assert_error(asked, 413, "file_too_large")["details"] == {"max_bytes": MAX_FILE_BYTES}

    ticket = await ticket_for(alice, room, "big.txt")  # size not declared
    for size in (too_big, 3 * MAX_FILE_BYTES):  # with Content-Length, refused before reading
        declared = await put_bytes(client, ticket, b"a" * size)
        assert assert_error(declared, 413, "file_too_large")["details"] == {
            "max_bytes": MAX_FILE_BYTES}

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked transfer
        for _ in range(11):
            yield b"a" * (1024 * 1024)

    streamed = await client.put(ticket["upload_url"], content=chunks())
    assert "content-length" not in streamed.request.headers
    assert assert_error(streamed, 413, "file_too_large")["details"] == {
        "max_bytes": MAX_FILE_BYTES}
    await assert_nothing_stored(alice, fake, room, blob_dir)


@pytest.mark.parametrize("file_policy", [FilePolicy(url_base=f"{BASE_URL}/api/v1",
                                                    max_scope_bytes=1000)], indirect=True)
async def test_at_007_an_upload_over_the_room_quota_is_refused(
        alice: httpx.AsyncClient, client: httpx.AsyncClient, fake: FakeApp,
        blob_dir: Path) -> None:
    room = await new_room(alice)
    kept = await upload(alice, client, room, "first.txt", b"x" * 600)
    blobs_before = stored_blobs(blob_dir)

    asked = await alice.post(f"/api/v1/rooms/{room['id']}/files",
                             json={"filename": "second.txt", "size_bytes": 600})
    error = assert_error(asked, 422, "room_storage_full")
    assert error["details"] == {"used_bytes": 600, "limit_bytes": 1000, "file_bytes": 600}

    ticket = await ticket_for(alice, room, "second.txt")  # size not declared: found on upload
    error = assert_error(await put_bytes(client, ticket, b"y" * 600), 422, "room_storage_full")
    assert error["details"] == {"used_bytes": 600, "limit_bytes": 1000, "file_bytes": 600}

    body = await listing(alice, room)
    assert [f["id"] for f in body["files"]] == [kept["id"]] and body["used_bytes"] == 600
    assert list(fake.store.files) == [kept["id"]]
    assert stored_blobs(blob_dir) == blobs_before


async def test_at_007_an_expired_upload_link_is_refused(
        alice: httpx.AsyncClient, client: httpx.AsyncClient, fake: FakeApp,
        blob_dir: Path) -> None:
    room = await new_room(alice)
    ticket = await ticket_for(alice, room, "notes.txt")
    fake.clock.advance(minutes=16)
    error = assert_error(await put_bytes(client, ticket, TXT), 410, "upload_expired")
    assert "expired_at" in error["details"]
    await assert_nothing_stored(alice, fake, room, blob_dir)


@pytest.mark.parametrize("part", ["payload", "signature"])
async def test_at_007_a_tampered_upload_link_is_refused(
        alice: httpx.AsyncClient, client: httpx.AsyncClient, fake: FakeApp, blob_dir: Path,
        part: str) -> None:
    room = await new_room(alice)
    ticket = await ticket_for(alice, room, "notes.txt")
    token = token_of(ticket["upload_url"])
    payload, signature = token.split(".")
    # a character in the middle: the last one of a signature may only carry padding bits
    tampered = (f"{flip(payload, len(payload) // 2)}.{signature}" if part == "payload" else
                f"{payload}.{flip(signature, len(signature) // 2)}")
    response = await client.put(f"/api/v1/uploads/{tampered}", content=TXT)
    assert_error(response, 403, "invalid_signature")
    await assert_nothing_stored(alice, fake, room, blob_dir)


async def test_at_007_an_upload_link_works_once(
        alice: httpx.AsyncClient, client: httpx.AsyncClient, fake: FakeApp,
        blob_dir: Path) -> None:
    room = await new_room(alice)
    ticket = await ticket_for(alice, room, "notes.txt")
    first = await put_bytes(client, ticket, TXT)
    assert first.status_code == 201, first.text
    blobs_before = stored_blobs(blob_dir)

    again = await put_bytes(client, ticket, b"something else entirely\n")
    assert_error(again, 409, "upload_already_used")
    body = await listing(alice, room)
    assert [f["id"] for f in body["files"]] == [first.json()["id"]]
    assert body["used_bytes"] == len(TXT)
    assert stored_blobs(blob_dir) == blobs_before


async def test_at_007_uploads_to_unknown_or_foreign_rooms_are_404(
        alice: httpx.AsyncClient, bob: httpx.AsyncClient, blob_dir: Path) -> None:
    room = await new_room(alice)
    unknown = await alice.post("/api/v1/rooms/no-such-room/files", json={"filename": "a.txt"})
    assert assert_error(unknown, 404, "room_not_found")["details"]["ref"] == "no-such-room"
    foreign = await bob.post(f"/api/v1/rooms/{room['id']}/files", json={"filename": "a.txt"})
    assert_error(foreign, 404, "room_not_found")
    direct = await bob.post("/api/v1/direct-sessions/no-such-chat/files",
                            json={"filename": "a.txt"})
    assert direct.status_code == 404, direct.text
    assert stored_blobs(blob_dir) == []


async def test_at_007_requesting_an_upload_needs_credentials(
        alice: httpx.AsyncClient, client: httpx.AsyncClient, blob_dir: Path) -> None:
    room = await new_room(alice)
    response = await client.post(f"/api/v1/rooms/{room['id']}/files",
                                 json={"filename": "a.txt"})
    assert_error(response, 401, "not_authenticated")
    assert stored_blobs(blob_dir) == []


async def test_at_007_a_bad_request_body_is_a_validation_error(
        alice: httpx.AsyncClient) -> None:
    room = await new_room(alice)
    for body in ({"filename": 42}, {"filename": "a.txt", "size_bytes": "10"}, {}):
        response = await alice.post(f"/api/v1/rooms/{room['id']}/files", json=body)
        assert_error(response, 422, "validation_error")
    negative = await alice.post(f"/api/v1/rooms/{room['id']}/files",
                                json={"filename": "a.txt", "size_bytes": -1})
    assert_error(negative, 422, "invalid_size")


async def test_files_not_configured_is_503(tmp_path: Path) -> None:
    """A server without file storage says so, instead of failing."""
    bare = fake_app()
    api = make_api(bare, make_settings(tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api),
                                 base_url=BASE_URL) as browser:
        await sign_in(browser, bare, "carol@example.com")
        room = await new_room(browser)
        response = await browser.post(f"/api/v1/rooms/{room['id']}/files",
                                      json={"filename": "a.txt"})
        assert_error(response, 503, "files_not_configured")


async def test_uploads_stream_over_a_real_socket(api: FastAPI, alice: httpx.AsyncClient,
                                                 fake: FakeApp, blob_dir: Path) -> None:
    """Through uvicorn: a chunked upload streams in, and an oversize declared one is refused
    without the server reading it."""
    room = await new_room(alice)
    async with served(api) as url, httpx.AsyncClient(base_url=url, timeout=30) as remote:

        async def pieces() -> AsyncIterator[bytes]:
            for _ in range(40):
                yield b"streamed line of text\n" * 3000  # ~66 KB per chunk

        ticket = await ticket_for(alice, room, "streamed.txt")
        response = await remote.put(urlsplit(ticket["upload_url"]).path, content=pieces())
        assert response.status_code == 201, response.text
        assert response.json()["size_bytes"] == 40 * 66_000

        ticket = await ticket_for(alice, room, "huge.txt")
        refused = await remote.put(urlsplit(ticket["upload_url"]).path,
                                   content=b"a" * (MAX_FILE_BYTES + 1))
        assert_error(refused, 413, "file_too_large")
    assert [f["name"] for f in (await listing(alice, room))["files"]] == ["streamed.txt"]
    assert len(stored_blobs(blob_dir)) == 2
