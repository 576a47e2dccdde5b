"""AT-012 over HTTP: delete and restore rooms, agents, direct chats and files within 7 days;
after the window every restore answers ``410 restore_window_expired``, before and after the
purge job, and the purge removes the stored bytes (a real ``LocalBlobStore`` under
``tmp_path``). The fake clock drives the days."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pantheon_adapters.documents.parser import LocalDocumentParser
from pantheon_adapters.storage.local import LocalBlobStore
from pantheon_core.usecases.deps import FilePolicy
from tests.e2e.conftest import BASE_URL, Json, assert_error, chat_room, with_files
from tests.fakes import FakeApp, fake_app

ROOMS, DIRECT = "/api/v1/rooms", "/api/v1/direct-sessions"


@pytest.fixture
def blob_dir(tmp_path: Path) -> Path:
    return tmp_path / "blobs"


@pytest.fixture
def fake(blob_dir: Path) -> FakeApp:
    return with_files(fake_app(), LocalBlobStore(blob_dir), documents=LocalDocumentParser(),
                      policy=FilePolicy(url_base=f"{BASE_URL}/api/v1"))


def stored(blob_dir: Path) -> list[Path]:
    return [p for p in blob_dir.rglob("*") if p.is_file()] if blob_dir.exists() else []


async def ok(response: httpx.Response, status: int = 200) -> Json:
    assert response.status_code == status, response.text
    body: Json = response.json()
    return body


async def upload(alice: httpx.AsyncClient, client: httpx.AsyncClient, url: str) -> Json:
    ticket = await ok(await alice.post(url, json={"filename": "notes.txt"}), 201)
    return await ok(await client.put(ticket["upload_url"], content=b"Launch in March.",
                                     headers={"Content-Type": "text/plain"}), 201)


async def test_at_012_agents_over_http(alice: httpx.AsyncClient, bob: httpx.AsyncClient,
                                       fake: FakeApp) -> None:
    room = await chat_room(alice, "Ana", "Bo")
    agents = f"{ROOMS}/{room['id']}/agents"
    assert (await alice.delete(f"{agents}/Ana")).status_code == 204
    trash = (await ok(await alice.get(agents, params={"deleted": "true"})))["agents"]
    assert [a["name"] for a in trash] == ["Ana"]
    assert trash[0]["restorable_until"] == "2026-12-03T12:00:00Z"
    assert_error(await bob.post(f"{agents}/{trash[0]['id']}/restore"), 404, "room_not_found")
    back = await ok(await alice.post(f"{agents}/ana/restore"))
    assert (back["deleted_at"], back["position"]) == (None, 1)
    assert_error(await alice.post(f"{agents}/Ana/restore"), 409, "agent_not_deleted")

    await alice.delete(f"{agents}/Ana")
    fake.clock.advance(days=7, seconds=1)
    assert_error(await alice.post(f"{agents}/{back['id']}/restore"), 410,
                 "restore_window_expired")
    await fake.uc.purge_deleted()
    gone = assert_error(await alice.post(f"{agents}/{back['id']}/restore"), 410,
                        "restore_window_expired")
    assert gone["details"]["purged"] is True
    assert_error(await alice.post(f"{agents}/Nobody/restore"), 404, "agent_not_found")


async def test_at_012_direct_chats_over_http(alice: httpx.AsyncClient, client: httpx.AsyncClient,
                                             blob_dir: Path, fake: FakeApp) -> None:
    chat = await ok(await alice.post(DIRECT, json={"agent": {"name": "Cleo",
                                                             "model_alias": "qwen"}}), 201)
    await upload(alice, client, f"{DIRECT}/{chat['id']}/files")
    deleted = await ok(await alice.delete(f"{DIRECT}/{chat['id']}"))
    assert deleted["deleted_at"] == "2026-11-26T12:00:00Z"
    assert deleted["restorable_until"] == "2026-12-03T12:00:00Z"
    assert (await ok(await alice.get(DIRECT)))["sessions"] == []
    trash = await ok(await alice.get(DIRECT, params={"deleted": "true"}))
    assert [s["id"] for s in trash["sessions"]] == [chat["id"]]
    assert_error(await alice.get(f"{DIRECT}/{chat['id']}/history"), 404,
                 "direct_session_not_found")
    restored = await ok(await alice.post(f"{DIRECT}/{chat['id']}/restore"))
    assert restored["deleted_at"] is None
    assert_error(await alice.post(f"{DIRECT}/{chat['id']}/restore"), 409,
                 "direct_session_not_deleted")

    await alice.delete(f"{DIRECT}/{chat['id']}")
    fake.clock.advance(days=8)
    assert len(stored(blob_dir)) == 2  # the original and its text, until the purge
    await fake.uc.purge_deleted()
    assert stored(blob_dir) == []
    assert_error(await alice.post(f"{DIRECT}/{chat['id']}/restore"), 410,
                 "restore_window_expired")


async def test_at_012_rooms_and_files_over_http(alice: httpx.AsyncClient,
                                                client: httpx.AsyncClient, blob_dir: Path,
                                                fake: FakeApp) -> None:
    room = await chat_room(alice, "Ana")
    file = await upload(alice, client, f"{ROOMS}/{room['id']}/files")
    await ok(await alice.delete(f"/api/v1/files/{file['id']}"))
    fake.clock.advance(days=8)
    assert_error(await alice.post(f"/api/v1/files/{file['id']}/restore"), 410,
                 "restore_window_expired")
    await ok(await alice.delete(f"{ROOMS}/{room['id']}"))
    await fake.uc.purge_deleted()
    assert stored(blob_dir) == []  # the deleted file went on its own
    assert_error(await alice.post(f"/api/v1/files/{file['id']}/restore"), 410,
                 "restore_window_expired")
    back = await ok(await alice.post(f"{ROOMS}/{room['id']}/restore"))  # a day old: in time
    assert back["deleted_at"] is None
    await ok(await alice.delete(f"{ROOMS}/{room['id']}"))
    fake.clock.advance(days=8)
    await fake.uc.purge_deleted()
    gone = assert_error(await alice.post(f"{ROOMS}/{room['id']}/restore"), 410,
                        "restore_window_expired")
    assert gone["details"]["kind"] == "room" and gone["details"]["purged"] is True
    assert_error(await alice.get(f"{ROOMS}/{room['id']}"), 404, "room_not_found")
