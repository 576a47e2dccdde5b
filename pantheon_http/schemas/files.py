"""Files of a room or a direct chat, as the API shows them (FR-TOOL-003/004, NFR-SEC-003)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from pantheon_core.domain.files import (
    ALLOWED_KINDS,
    MAX_FILE_BYTES,
    MAX_SCOPE_BYTES,
    FileKind,
    FileStatus,
    StoredFile,
)
from pantheon_core.usecases.files import DownloadLink, FileListing, UploadTicket
from pantheon_http.schemas.base import ErrorResponse, RequestModel

_KINDS = ", ".join(kind.upper() for kind in ALLOWED_KINDS)


class UploadRequest(RequestModel):
    filename: str = Field(description="The file's name, shown to people and agents (it is "
                                      "sanitised; the type is decided by the content).",
                          examples=["report.pdf"])
    size_bytes: int | None = Field(None, description=f"The size, if known: over "
                                                     f"{MAX_FILE_BYTES} bytes is refused now.")


class UploadTicketOut(BaseModel):
    """Where to send the bytes: ``PUT`` the raw file body to ``upload_url`` (no other
    credentials needed; the link is signed and short-lived)."""

    file_id: str
    name: str = Field(description="The sanitised name the file will have.")
    upload_url: str
    method: Literal["PUT"] = "PUT"
    expires_at: datetime
    max_bytes: int

    @classmethod
    def of(cls, ticket: UploadTicket) -> UploadTicketOut:
        return cls(file_id=ticket.file_id, name=ticket.name, upload_url=ticket.url,
                   expires_at=ticket.expires_at, max_bytes=ticket.max_bytes)


class FileErrorOut(BaseModel):
    code: str = Field(examples=["file_unreadable"])
    message: str


class FileOut(BaseModel):
    id: str
    name: str
    kind: FileKind = Field(description=f"Decided by the content: {_KINDS}.")
    content_type: str
    size_bytes: int
    sha256: str
    status: FileStatus = Field(description="`uploaded` → `parsing` → `ready` or `failed`.")
    error: FileErrorOut | None = Field(description="Why parsing failed, when it did.")
    pages: int = Field(description="Pages found (PDF, DOCX); 0 for text files.")
    text_chars: int = Field(description="Characters of extracted text agents can read.")
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = Field(description="Set while in the 7-day trash.")
    restorable_until: datetime | None = Field(description="Deleted files: restore before this.")
    room_id: str | None
    direct_session_id: str | None

    @classmethod
    def of(cls, file: StoredFile) -> FileOut:
        error = None if file.error_code is None else FileErrorOut(
            code=file.error_code, message=file.error_message or "")
        return cls(id=file.id, name=file.name, kind=file.kind, content_type=file.content_type,
                   size_bytes=file.size_bytes, sha256=file.sha256, status=file.status,
                   error=error, pages=file.pages, text_chars=file.text_chars,
                   created_at=file.created_at, updated_at=file.updated_at,
                   deleted_at=file.deleted_at, restorable_until=file.restorable_until(),
                   room_id=file.scope.room_id,
                   direct_session_id=file.scope.direct_session_id)


class FileListOut(BaseModel):
    files: list[FileOut] = Field(description="Newest first.")
    used_bytes: int = Field(description="Bytes used by the files that are not deleted.")
    limit_bytes: int = Field(description=f"The storage limit ({MAX_SCOPE_BYTES} bytes).")

    @classmethod
    def of(cls, listing: FileListing) -> FileListOut:
        return cls(files=[FileOut.of(f) for f in listing.files], used_bytes=listing.used_bytes,
                   limit_bytes=listing.limit_bytes)


class DownloadLinkOut(BaseModel):
    url: str = Field(description="GET it (no credentials needed) before `expires_at`.")
    expires_at: datetime

    @classmethod
    def of(cls, link: DownloadLink) -> DownloadLinkOut:
        return cls(url=link.url, expires_at=link.expires_at)


_FILE_ERRORS = {
    413: "The file is over the size limit (`file_too_large`).",
    415: "The content is not an allowed type (`unsupported_file_type`); `details.allowed` "
         "lists the types.",
}


def file_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the statuses only uploads answer."""
    return {status: {"model": ErrorResponse, "description": _FILE_ERRORS[status]}
            for status in statuses}
