"""Uploaded files (FR-TOOL-003/004, NFR-SEC-003): what a file is, where it belongs, its limits.

A file belongs to one **scope**: a room or a direct session, never both. Its type is decided
by its content (see :mod:`pantheon_core.domain.file_types`), never by its name; the name is
only shown to people and models, after :func:`sanitize_filename`, and is never used as a
path — bytes live under a key made from ids.

Life cycle::

    uploaded ──► parsing ──► ready
                    │
                    └──────► failed (with a code and a reason)

Soft delete (``deleted_at``) hides a file from listings and from agents; restore brings it
back within the retention window, if the scope still has room for it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from pantheon_core.domain.trash import RESTORE_WINDOW as RESTORE_WINDOW
from pantheon_core.domain.trash import restorable_until
from pantheon_core.errors import InvalidInput
from pantheon_core.ids import DirectSessionId, FileId, RoomId, UserId

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_SCOPE_BYTES = 100 * 1024 * 1024
MAX_NAME_CHARS = 200


class FileKind(StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    TXT = "txt"
    MD = "md"
    CSV = "csv"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self]

    @property
    def is_text(self) -> bool:
        return self in (FileKind.TXT, FileKind.MD, FileKind.CSV)


CONTENT_TYPES: dict[FileKind, str] = {
    FileKind.PDF: "application/pdf",
    FileKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileKind.TXT: "text/plain; charset=utf-8",
    FileKind.MD: "text/markdown; charset=utf-8",
    FileKind.CSV: "text/csv; charset=utf-8",
}
ALLOWED_KINDS: tuple[str, ...] = tuple(kind.value for kind in FileKind)


class FileStatus(StrEnum):
    UPLOADED = "uploaded"
    PARSING = "parsing"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class FileScope:
    """Where a file belongs: exactly one of a room or a direct session."""

    room_id: RoomId | None = None
    direct_session_id: DirectSessionId | None = None

    def __post_init__(self) -> None:
        if (self.room_id is None) == (self.direct_session_id is None):
            raise ValueError("A file scope is a room or a direct session, exactly one.")

    @property
    def kind(self) -> str:
        return "room" if self.room_id is not None else "direct_session"

    @property
    def ref(self) -> str:
        return str(self.room_id or self.direct_session_id)


@dataclass(frozen=True, slots=True)
class StoredFile:
    id: FileId
    owner_id: UserId
    scope: FileScope
    name: str  # sanitised display name; never a path
    kind: FileKind
    size_bytes: int
    sha256: str
    blob_key: str  # the original bytes
    status: FileStatus
    created_at: datetime
    updated_at: datetime
    text_key: str | None = None  # the extracted text, once parsed
    text_chars: int = 0
    page_offsets: tuple[int, ...] = ()  # character offset where each page starts (PDF/DOCX)
    error_code: str | None = None
    error_message: str | None = None
    parse_attempts: int = 0
    deleted_at: datetime | None = None

    @property
    def content_type(self) -> str:
        return self.kind.content_type

    @property
    def pages(self) -> int:
        return len(self.page_offsets)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def parsing(self, now: datetime) -> StoredFile:
        return replace(self, status=FileStatus.PARSING, parse_attempts=self.parse_attempts + 1,
                       error_code=None, error_message=None, updated_at=now)

    def ready(self, now: datetime, *, text_key: str, text_chars: int,
              page_offsets: Sequence[int]) -> StoredFile:
        return replace(self, status=FileStatus.READY, text_key=text_key, text_chars=text_chars,
                       page_offsets=tuple(page_offsets), error_code=None, error_message=None,
                       updated_at=now)

    def failed(self, now: datetime, *, code: str, message: str) -> StoredFile:
        return replace(self, status=FileStatus.FAILED, error_code=code, error_message=message,
                       updated_at=now)

    def deleted(self, now: datetime) -> StoredFile:
        return replace(self, deleted_at=now, updated_at=now)

    def restored(self, now: datetime) -> StoredFile:
        return replace(self, deleted_at=None, updated_at=now)

    def restorable(self, now: datetime) -> bool:
        until = restorable_until(self.deleted_at)
        return until is not None and now <= until

    def restorable_until(self) -> datetime | None:
        return restorable_until(self.deleted_at)


def blob_key_for(file_id: FileId) -> str:
    return f"files/{file_id}/original"


def text_key_for(file_id: FileId) -> str:
    return f"files/{file_id}/text.txt"


_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"/\\|?*]")
_SPACES = re.compile(r"\s+")


def sanitize_filename(raw: str) -> str:
    """A display name safe to show and to put in a ``Content-Disposition`` header.

    Keeps the last path component only (``/`` or ``\\``), normalises Unicode (NFC), drops
    control characters, bidi overrides and characters reserved on common file systems,
    collapses whitespace, strips leading dots and spaces, and keeps at most 200 characters
    (the extension survives a cut). An empty result becomes ``"file"``.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cf", "Cc", "Cs", "Co"))
    name = _UNSAFE.sub("_", name)
    name = _SPACES.sub(" ", name).strip().lstrip(". ").rstrip(". ")
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_NAME_CHARS - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_NAME_CHARS].rstrip()
    return name or "file"


def extension_of(name: str) -> str:
    """The lower-case extension of a (sanitised) name, without the dot, or ``""``."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def unsupported_file_type(reason: str, *, detected: str | None = None) -> InvalidInput:
    """The one error for content that is not an allowed type (AT-007)."""
    return InvalidInput(
        f"This file type is not supported: {reason}. Allowed types: PDF, DOCX, TXT, MD, CSV.",
        code="unsupported_file_type",
        details={"allowed": list(ALLOWED_KINDS), "reason": reason, "detected": detected})


def unsafe_file(reason: str) -> InvalidInput:
    """Content of an allowed type that breaks a safety limit (zip bomb, too many pages, …)."""
    return InvalidInput(f"This file was refused: {reason}.", code="unsafe_file",
                        details={"reason": reason})


def too_large(max_bytes: int = MAX_FILE_BYTES) -> InvalidInput:
    return InvalidInput(f"The file is larger than the limit of {max_bytes // (1024 * 1024)} MB.",
                        code="file_too_large", details={"max_bytes": max_bytes})


def storage_full(scope: FileScope, *, used: int, size: int,
                 limit: int = MAX_SCOPE_BYTES) -> InvalidInput:
    where = "room" if scope.room_id is not None else "chat"
    return InvalidInput(
        f"This {where} has no room for the file: {used} of {limit} bytes are used and the file "
        f"is {size} bytes.", code="room_storage_full",
        details={"used_bytes": used, "limit_bytes": limit, "file_bytes": size})
