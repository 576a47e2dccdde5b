"""Builders for the retention tests: an app with file storage, and conversations to purge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pantheon_core.actor import Actor
from pantheon_core.domain.files import StoredFile
from pantheon_core.domain.rooms import Room
from pantheon_core.domain.sessions import DirectSession
from pantheon_core.domain.turns import Turn
from pantheon_core.usecases.deps import RetentionPolicy
from tests.fake_tools import MemoryBlobStore, PlainTextParser
from tests.fakes import FakeApp, fake_app
from tests.unit.helpers import room_with_agents, sign_up


def retention_app(**policy: Any) -> tuple[FakeApp, MemoryBlobStore]:
    blobs = MemoryBlobStore()
    app = fake_app(blobs=blobs, documents=PlainTextParser(),
                   retention=RetentionPolicy(**policy))
    return app, blobs


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def upload(app: FakeApp, actor: Actor, data: bytes = b"notes", *,
                 room_id: str | None = None,
                 direct_session_id: str | None = None) -> StoredFile:
    """A file, uploaded and parsed (its original and its text are both stored)."""
    ticket = await app.uc.request_upload(actor, filename="notes.txt", room_id=room_id,
                                         direct_session_id=direct_session_id)
    file = await app.uc.finish_upload(ticket.token, _body(data))
    return await app.uc.get_file(actor, file.id)


@dataclass
class Furnished:
    """A room with two agents, one finished turn and one parsed file."""

    actor: Actor
    room: Room
    turn: Turn
    file: StoredFile


async def furnished_room(app: FakeApp, email: str = "ada@example.com") -> Furnished:
    actor = await sign_up(app, email)
    room = await room_with_agents(app, actor, "Ana", "Bo")
    turn = await app.uc.send_to_room(actor, room.id, "What should we build?")
    await app.settle()
    file = await upload(app, actor, b"room notes", room_id=room.id)
    return Furnished(actor, room, turn, file)


@dataclass
class DirectChat:
    session: DirectSession
    turn: Turn
    file: StoredFile


async def direct_chat(app: FakeApp, actor: Actor) -> DirectChat:
    session = await app.uc.create_direct_session(actor, name="Cleo", model_alias="qwen")
    turn = await app.uc.send_direct(actor, session.id, "Hello, Cleo")
    await app.settle()
    file = await upload(app, actor, b"chat notes", direct_session_id=session.id)
    return DirectChat(session, turn, file)


def keys_of(file: StoredFile) -> set[str]:
    return {key for key in (file.blob_key, file.text_key) if key}
