"""File use cases on fakes: signed uploads, content checks, quota, parse life cycle (AT-007)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from pantheon_core.domain.files import FileKind, FileStatus, sanitize_filename
from pantheon_core.domain.jobs import PARSE_FILE
from pantheon_core.errors import Conflict, Forbidden, Gone, InvalidInput, NotFound, Unavailable
from pantheon_core.usecases.deps import FilePolicy
from tests.documents import PNG, make_docx, make_pdf, make_xlsx_like_zip
from tests.fake_tools import MemoryBlobStore, PlainTextParser
from tests.fakes import FakeApp, fake_app
from tests.unit.helpers import sign_up


async def chunks(data: bytes, size: int = 65536) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


class RecordingJobs:
    def __init__(self) -> None:
        self.enqueued: list[tuple[str, dict[str, str]]] = []
        self.fail = False

    async def enqueue(self, name: str, payload: dict[str, str]) -> str:
        if self.fail:
            raise Unavailable("Broker down.", code="jobs_unavailable")
        self.enqueued.append((name, dict(payload)))
        return f"m{len(self.enqueued)}"


class FlakyParser(PlainTextParser):
    async def extract(self, kind, data, *, limits):  # type: ignore[no-untyped-def]
        self.calls += 1
        raise Unavailable("Parser crashed.", code="parser_unavailable")


def files_app(**extra: object) -> tuple[FakeApp, MemoryBlobStore]:
    blobs = MemoryBlobStore()
    extra.setdefault("documents", PlainTextParser())
    return fake_app(blobs=blobs, **extra), blobs  # type: ignore[arg-type]


async def upload(app: FakeApp, actor, room_id: str, name: str, data: bytes):  # type: ignore[no-untyped-def]
    ticket = await app.uc.request_upload(actor, room_id=room_id, filename=name)
    return await app.uc.finish_upload(ticket.token, chunks(data))


async def room(app: FakeApp):  # type: ignore[no-untyped-def]
    actor = await sign_up(app, "ana@example.com")
    return actor, await app.uc.create_room(actor, name="Lab")


async def test_upload_parses_inline_without_a_queue_and_lists() -> None:
    app, _blobs = files_app()
    actor, lab = await room(app)
    file = await upload(app, actor, lab.id, "../../etc/notes.md", b"# Title\nHello")
    assert file.name == "notes.md" and file.kind is FileKind.MD
    assert file.blob_key.startswith(f"files/{file.id}/")  # never the user's name
    stored = await app.uc.get_file(actor, file.id)
    assert stored.status is FileStatus.READY and stored.text_chars == len("# Title\nHello")
    listing = await app.uc.list_files(actor, room_id=lab.id)
    assert [f.id for f in listing.files] == [file.id] and listing.used_bytes == 13


async def test_upload_queues_a_parse_job_when_there_is_a_queue() -> None:
    jobs = RecordingJobs()
    app, _ = files_app(jobs=jobs)
    actor, lab = await room(app)
    file = await upload(app, actor, lab.id, "a.txt", b"hello")
    assert jobs.enqueued == [(PARSE_FILE, {"file_id": file.id})]
    assert (await app.uc.get_file(actor, file.id)).status is FileStatus.UPLOADED
    await app.uc.parse_file(file.id, final_attempt=False)
    assert (await app.uc.get_file(actor, file.id)).status is FileStatus.READY
    await app.uc.parse_file(file.id, final_attempt=False)  # a redelivery is a no-op
    assert app.uc.parse_file.deps.documents.calls == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "data", "code"), [
    ("photo.pdf", PNG, "unsupported_file_type"),
    ("sheet.docx", make_xlsx_like_zip(), "unsupported_file_type"),
    ("empty.txt", b"", "empty_file"),
])
async def test_at_007_bad_content_stores_nothing(name: str, data: bytes, code: str) -> None:
    app, blobs = files_app()
    actor, lab = await room(app)
    with pytest.raises(InvalidInput) as caught:
        await upload(app, actor, lab.id, name, data)
    assert caught.value.code == code
    assert blobs.objects == {} and app.store.files == {}


async def test_at_007_unsupported_type_lists_the_allowed_types() -> None:
    app, _ = files_app()
    actor, lab = await room(app)
    with pytest.raises(InvalidInput) as caught:
        await upload(app, actor, lab.id, "photo.pdf", PNG)
    assert caught.value.details["allowed"] == ["pdf", "docx", "txt", "md", "csv"]


async def test_at_007_oversize_is_refused_while_streaming() -> None:
    app, blobs = files_app(files=FilePolicy(max_file_bytes=1000))
    actor, lab = await room(app)
    with pytest.raises(InvalidInput) as declared:
        await app.uc.request_upload(actor, room_id=lab.id, filename="a.txt", size_bytes=1001)
    assert declared.value.code == "file_too_large"
    ticket = await app.uc.request_upload(actor, room_id=lab.id, filename="a.txt")
    with pytest.raises(InvalidInput) as streamed:
        await app.uc.finish_upload(ticket.token, chunks(b"x" * 1001, size=100))
    assert streamed.value.code == "file_too_large"
    assert streamed.value.details["max_bytes"] == 1000
    assert blobs.objects == {} and app.store.files == {}


async def test_at_007_room_quota() -> None:
    app, blobs = files_app(files=FilePolicy(max_scope_bytes=10))
    actor, lab = await room(app)
    await upload(app, actor, lab.id, "a.txt", b"123456")
    with pytest.raises(InvalidInput) as caught:
        await upload(app, actor, lab.id, "b.txt", b"123456")
    assert caught.value.code == "room_storage_full"
    assert caught.value.details == {"used_bytes": 6, "limit_bytes": 10, "file_bytes": 6}
    assert len(app.store.files) == 1 and len(blobs.objects) == 2  # a.txt and its text


async def test_at_007_expired_tampered_and_reused_tokens() -> None:
    app, _blobs = files_app()
    actor, lab = await room(app)
    ticket = await app.uc.request_upload(actor, room_id=lab.id, filename="a.txt")
    payload, _, signature = ticket.token.partition(".")
    forged = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + signature
    with pytest.raises(Forbidden) as bad:
        await app.uc.finish_upload(forged, chunks(b"hi"))
    assert bad.value.code == "invalid_signature"
    with pytest.raises(Forbidden):
        await app.uc.finish_upload("not-a-token", chunks(b"hi"))
    await app.uc.finish_upload(ticket.token, chunks(b"hi"))
    with pytest.raises(Conflict) as reused:
        await app.uc.finish_upload(ticket.token, chunks(b"hi"))
    assert reused.value.code == "upload_already_used"
    late = await app.uc.request_upload(actor, room_id=lab.id, filename="b.txt")
    app.clock.advance(minutes=16)
    with pytest.raises(Gone) as expired:
        await app.uc.finish_upload(late.token, chunks(b"hi"))
    assert expired.value.code == "upload_expired"
    assert len(app.store.files) == 1


async def test_a_download_token_cannot_upload_and_vice_versa() -> None:
    app, _ = files_app()
    actor, lab = await room(app)
    file = await upload(app, actor, lab.id, "a.txt", b"hi")
    link = await app.uc.create_download_link(actor, file.id)
    with pytest.raises(Forbidden):
        await app.uc.finish_upload(link.token, chunks(b"hi"))
    ticket = await app.uc.request_upload(actor, room_id=lab.id, filename="b.txt")
    with pytest.raises(Forbidden):
        await app.uc.open_download(ticket.token)
    stored, body = await app.uc.open_download(link.token)
    assert stored.id == file.id and b"".join([c async for c in body]) == b"hi"
    app.clock.advance(minutes=6)
    with pytest.raises(Gone) as expired:
        await app.uc.open_download(link.token)
    assert expired.value.code == "download_expired"


async def test_other_users_files_and_rooms_are_not_found() -> None:
    app, _ = files_app()
    actor, lab = await room(app)
    file = await upload(app, actor, lab.id, "a.txt", b"hi")
    eve = await sign_up(app, "eve@example.com")
    with pytest.raises(NotFound):
        await app.uc.request_upload(eve, room_id=lab.id, filename="x.txt")
    for action in (app.uc.get_file, app.uc.delete_file, app.uc.restore_file,
                   app.uc.create_download_link):
        with pytest.raises(NotFound):
            await action(eve, file.id)
    with pytest.raises(NotFound):
        await app.uc.list_files(eve, room_id=lab.id)


async def test_soft_delete_restore_and_quota_on_restore() -> None:
    app, _ = files_app(files=FilePolicy(max_scope_bytes=10))
    actor, lab = await room(app)
    first = await upload(app, actor, lab.id, "a.txt", b"123456")
    await app.uc.delete_file(actor, first.id)
    assert (await app.uc.list_files(actor, room_id=lab.id)).files == []
    assert [f.id for f in (await app.uc.list_files(actor, room_id=lab.id, deleted=True)).files] \
        == [first.id]
    with pytest.raises(NotFound):
        await app.uc.create_download_link(actor, first.id)
    await upload(app, actor, lab.id, "b.txt", b"123456")  # the freed space is usable
    with pytest.raises(InvalidInput) as full:
        await app.uc.restore_file(actor, first.id)
    assert full.value.code == "room_storage_full"


async def test_restore_window() -> None:
    app, _ = files_app()
    actor, lab = await room(app)
    file = await upload(app, actor, lab.id, "a.txt", b"hi")
    await app.uc.delete_file(actor, file.id)
    restored = await app.uc.restore_file(actor, file.id)
    assert restored.deleted_at is None
    await app.uc.delete_file(actor, file.id)
    app.clock.advance(days=8)
    with pytest.raises(Gone) as caught:
        await app.uc.restore_file(actor, file.id)
    assert caught.value.code == "restore_window_expired"


async def test_files_of_a_deleted_room_are_gone_with_it() -> None:
    app, _ = files_app()
    actor, lab = await room(app)
    file = await upload(app, actor, lab.id, "a.txt", b"hi")
    await app.uc.delete_room(actor, lab.id)
    with pytest.raises(NotFound):
        await app.uc.get_file(actor, file.id)


async def test_direct_session_files() -> None:
    app, _ = files_app()
    actor = await sign_up(app, "ana@example.com")
    session = await app.uc.create_direct_session(actor, name="Solo", model_alias="qwen")
    ticket = await app.uc.request_upload(actor, direct_session_id=session.id, filename="a.csv")
    file = await app.uc.finish_upload(ticket.token, chunks(b"a,b\n1,2\n3,4\n"))
    assert file.kind is FileKind.CSV and file.scope.direct_session_id == session.id
    listing = await app.uc.list_files(actor, direct_session_id=session.id)
    assert [f.id for f in listing.files] == [file.id]
    with pytest.raises(InvalidInput):
        await app.uc.list_files(actor)


async def test_parse_retries_then_fails_with_a_reason() -> None:
    jobs = RecordingJobs()
    app, _ = files_app(jobs=jobs, documents=FlakyParser())
    actor, lab = await room(app)
    file = await upload(app, actor, lab.id, "a.txt", b"hello")
    with pytest.raises(Unavailable):
        await app.uc.parse_file(file.id, final_attempt=False)
    assert (await app.uc.get_file(actor, file.id)).status is FileStatus.PARSING
    with pytest.raises(Unavailable):  # raised so the job run records the failure
        await app.uc.parse_file(file.id, final_attempt=True)
    failed = await app.uc.get_file(actor, file.id)
    assert failed.status is FileStatus.FAILED and failed.error_code == "parse_failed"
    assert failed.parse_attempts == 2


async def test_real_documents_are_typed_by_content() -> None:
    app, _ = files_app()
    actor, lab = await room(app)
    pdf = await upload(app, actor, lab.id, "notes.txt", make_pdf(["Hello"]))
    docx = await upload(app, actor, lab.id, "report", make_docx(["Hi"]))
    assert (pdf.kind, docx.kind) == (FileKind.PDF, FileKind.DOCX)


async def test_stuck_files_are_queued_again() -> None:
    jobs = RecordingJobs()
    app, _ = files_app(jobs=jobs)
    actor, lab = await room(app)
    jobs.fail = True
    file = await upload(app, actor, lab.id, "a.txt", b"hello")  # the enqueue failed
    jobs.fail = False
    assert await app.uc.requeue_stuck_files() == 0  # too fresh
    app.clock.advance(minutes=3)
    assert await app.uc.requeue_stuck_files() == 1
    assert jobs.enqueued == [(PARSE_FILE, {"file_id": file.id})]


def test_sanitize_filename() -> None:
    assert sanitize_filename("..\\..\\windows\\system32\\evil.pdf") == "evil.pdf"
    assert sanitize_filename("a\u202egnp.exe") == "agnp.exe"
    assert sanitize_filename("  ..hidden  ") == "hidden"
    assert sanitize_filename("") == "file" and sanitize_filename("///") == "file"
    long = sanitize_filename("x" * 300 + ".pdf")
    assert len(long) == 200 and long.endswith(".pdf")
    assert sanitize_filename('a<b>:c"d|e?f*g.txt') == "a_b__c_d_e_f_g.txt"


def test_upload_ttl_is_short() -> None:
    assert FilePolicy().upload_ttl <= timedelta(minutes=15)
