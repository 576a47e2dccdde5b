"""File bytes over HTTP: the upload body as a stream, and the headers of a download.

Uploads are never read whole into memory here: the body goes chunk by chunk to the
``finish_upload`` use case, which counts, hashes and stores it. A declared
``Content-Length`` over the file limit is refused before a byte is read; a body that
ends early (the client went away) is ``upload_incomplete``, and the use case removes
whatever it had written.

Downloads are always attachments, never rendered inline: ``nosniff``, not cached, and a
``Content-Disposition`` whose name is safe in a header (RFC 6266 / RFC 5987).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from typing import Final
from urllib.parse import quote

from fastapi import Request
from starlette.requests import ClientDisconnect

from pantheon_core.domain.files import MAX_FILE_BYTES, StoredFile, too_large
from pantheon_core.errors import InvalidInput
from pantheon_http.body_limit import BodyTooLarge

# The request body cap for the upload route (the app's usual cap is 1 MiB): the file limit
# and a little more; the use case enforces the exact limit while it streams.
MAX_UPLOAD_BODY_BYTES: Final = MAX_FILE_BYTES + 64 * 1024

_NOT_TOKEN_SAFE = re.compile(r"[^A-Za-z0-9._ ()+-]")
# RFC 5987 attr-char, besides letters and digits (which ``quote`` never escapes)
_ATTR_CHARS: Final = "!#$&+-.^_`|~"


def check_declared_size(request: Request, max_bytes: int) -> None:
    """Refuse at once a body whose declared length is over ``max_bytes``."""
    declared = request.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large(max_bytes)


async def upload_body(request: Request, max_bytes: int) -> AsyncIterator[bytes]:
    """The request body as it arrives, chunk by chunk. A body the app's cap cuts off (it
    may, before the use case counts past ``max_bytes``, when chunks are large) is
    ``file_too_large`` like any other oversize file."""
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except BodyTooLarge:
        raise too_large(max_bytes) from None
    except ClientDisconnect:
        raise InvalidInput("The upload was cut off before the end of the file.",
                           code="upload_incomplete") from None


def content_disposition(name: str) -> str:
    """``attachment; filename="plain.pdf"; filename*=UTF-8''pl%C3%A4in.pdf``.

    ``filename`` is an ASCII fallback for old clients (no quotes, backslashes or control
    characters can reach it); ``filename*`` carries the real name, percent-encoded.
    """
    fallback = _NOT_TOKEN_SAFE.sub("_", name.encode("ascii", "replace").decode("ascii"))
    fallback = fallback.strip(" .") or "download"
    encoded = quote(name, safe=_ATTR_CHARS)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def download_headers(file: StoredFile) -> Mapping[str, str]:
    return {"Content-Disposition": content_disposition(file.name),
            "Content-Length": str(file.size_bytes),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store"}
