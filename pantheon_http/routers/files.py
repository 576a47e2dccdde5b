"""Files of rooms and direct chats (FR-TOOL-003/004, NFR-SEC-003, AT-007).

Uploading is two requests. ``POST …/files`` (signed in) checks the room, the name and the
declared size and answers a short-lived signed ``upload_url``; ``PUT`` the raw bytes there
(no other credentials: the signature is one). The type is decided by the content; a bad
upload is refused with its own code and stores nothing. Parsing then runs as a job:
poll ``GET /files/{id}`` until ``status`` is ``ready`` or ``failed``.

Downloads work the same way: ``POST /files/{id}/download`` gives a signed link, valid a
few minutes, which anyone holding it can ``GET``. Someone else's file is 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse

from pantheon_core.domain.signed_urls import MAX_TOKEN_CHARS
from pantheon_core.usecases.catalog import UseCases
from pantheon_http.auth import CurrentActor
from pantheon_http.deps import UseCasesDep
from pantheon_http.file_transfer import check_declared_size, download_headers, upload_body
from pantheon_http.params import DirectSessionIdPath, RoomIdPath
from pantheon_http.schemas.base import error_responses
from pantheon_http.schemas.files import (
    DownloadLinkOut,
    FileListOut,
    FileOut,
    UploadRequest,
    UploadTicketOut,
    file_error_responses,
)

router = APIRouter(tags=["files"])

_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
FileIdPath = Annotated[str, Path(description="The file's id.", max_length=100,
                                 pattern=_PRINTABLE)]
TokenPath = Annotated[str, Path(description="The signed token of the link.",
                                max_length=MAX_TOKEN_CHARS, pattern=_PRINTABLE)]
DeletedQuery = Annotated[bool, Query(description="List the 7-day trash instead.")]

_UPLOAD_ERRORS = {**error_responses(401, 404, 422), **file_error_responses(413)}
_SIGNED = error_responses(403, 404, 410)


@router.post("/rooms/{room_id}/files", status_code=201, summary="Start uploading a file to a room",
             responses=_UPLOAD_ERRORS)
async def request_room_upload(room_id: RoomIdPath, body: UploadRequest, actor: CurrentActor,
                              use_cases: UseCasesDep) -> UploadTicketOut:
    """Answers the signed `upload_url`; 422 `room_storage_full` when the room has no space."""
    ticket = await use_cases.request_upload(actor, filename=body.filename, room_id=room_id,
                                            size_bytes=body.size_bytes)
    return UploadTicketOut.of(ticket)


@router.post("/direct-sessions/{session_id}/files", status_code=201,
             summary="Start uploading a file to a direct chat", responses=_UPLOAD_ERRORS)
async def request_direct_upload(session_id: DirectSessionIdPath, body: UploadRequest,
                                actor: CurrentActor, use_cases: UseCasesDep) -> UploadTicketOut:
    ticket = await use_cases.request_upload(actor, filename=body.filename,
                                            direct_session_id=session_id,
                                            size_bytes=body.size_bytes)
    return UploadTicketOut.of(ticket)


@router.put("/uploads/{token}", status_code=201, summary="Send a file's bytes to its upload link",
            responses={**error_responses(403, 404, 409, 410, 422),
                       **file_error_responses(413, 415)})
async def upload_file(token: TokenPath, request: Request, use_cases: UseCasesDep) -> FileOut:
    """The raw file as the body (any `Content-Type`); no other credentials. Answers the
    file, `uploaded` or already parsed. 413 `file_too_large`, 415 `unsupported_file_type`,
    422 `empty_file` / `unsafe_file` / `room_storage_full`, 403 `invalid_signature`,
    410 `upload_expired`, 409 `upload_already_used`; a refused upload stores nothing."""
    limit = max_file_bytes(use_cases)
    check_declared_size(request, limit)
    return FileOut.of(await use_cases.finish_upload(token, upload_body(request, limit)))


@router.get("/rooms/{room_id}/files", summary="A room's files",
            responses=error_responses(401, 404))
async def list_room_files(room_id: RoomIdPath, actor: CurrentActor, use_cases: UseCasesDep,
                          deleted: DeletedQuery = False) -> FileListOut:
    return FileListOut.of(await use_cases.list_files(actor, room_id=room_id, deleted=deleted))


@router.get("/direct-sessions/{session_id}/files", summary="A direct chat's files",
            responses=error_responses(401, 404))
async def list_direct_files(session_id: DirectSessionIdPath, actor: CurrentActor,
                            use_cases: UseCasesDep, deleted: DeletedQuery = False) -> FileListOut:
    listing = await use_cases.list_files(actor, direct_session_id=session_id, deleted=deleted)
    return FileListOut.of(listing)


@router.get("/files/{file_id}", summary="One file: its status, type and size",
            responses=error_responses(401, 404))
async def get_file(file_id: FileIdPath, actor: CurrentActor, use_cases: UseCasesDep) -> FileOut:
    return FileOut.of(await use_cases.get_file(actor, file_id))


@router.delete("/files/{file_id}", summary="Delete a file (restorable for 7 days)",
               responses=error_responses(401, 404))
async def delete_file(file_id: FileIdPath, actor: CurrentActor,
                      use_cases: UseCasesDep) -> FileOut:
    """Hidden from listings and from agents at once; its bytes stay until purged."""
    return FileOut.of(await use_cases.delete_file(actor, file_id))


@router.post("/files/{file_id}/restore", summary="Restore a deleted file",
             responses=error_responses(401, 404, 410, 422))
async def restore_file(file_id: FileIdPath, actor: CurrentActor,
                       use_cases: UseCasesDep) -> FileOut:
    """410 `restore_window_expired` after 7 days (also once purged); 422 `room_storage_full`
    if it no longer fits."""
    return FileOut.of(await use_cases.restore_file(actor, file_id))


@router.post("/files/{file_id}/download", summary="A short-lived download link",
             responses=error_responses(401, 404))
async def create_download_link(file_id: FileIdPath, actor: CurrentActor,
                               use_cases: UseCasesDep) -> DownloadLinkOut:
    return DownloadLinkOut.of(await use_cases.create_download_link(actor, file_id))


@router.get("/downloads/{token}", summary="Download a file with its signed link",
            response_class=StreamingResponse, responses={
                200: {"description": "The file's bytes, as an attachment.",
                      "content": {"application/octet-stream": {"schema": {
                          "type": "string", "format": "binary"}}}},
                **_SIGNED})
async def download_file(token: TokenPath, use_cases: UseCasesDep) -> StreamingResponse:
    """No credentials: the signature is one. 403 `invalid_signature`, 410 `download_expired`."""
    file, chunks = await use_cases.open_download(token)
    return StreamingResponse(chunks, media_type=file.content_type,
                             headers=dict(download_headers(file)))


def max_file_bytes(use_cases: UseCases) -> int:
    """The per-file limit the upload use case enforces (its policy), for an early refusal."""
    return use_cases.finish_upload.deps.files.max_file_bytes
