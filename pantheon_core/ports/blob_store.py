"""Where file bytes live: the ``BlobStore`` port and the key rule its adapters share."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Protocol

from pantheon_core.errors import InvalidInput

MAX_KEY_LENGTH = 512
MAX_SEGMENT_LENGTH = 255  # the usual file-name limit, so the local store can hold every valid key
_KEY_CHARS = re.compile(r"[A-Za-z0-9/_.\-]+")


def check_blob_key(key: str) -> str:
    """Return ``key`` if well-formed, else raise ``InvalidInput(code="invalid_blob_key")``.

    Keys are made by the caller (ids, never user filenames): ``[A-Za-z0-9/_.-]``, 1 to 512
    characters, no leading ``/``, no ``..``, no empty or ``.`` segment, no trailing ``/``, and no
    segment longer than 255 characters.
    """
    segments = key.split("/")
    if (
        not 0 < len(key) <= MAX_KEY_LENGTH
        or _KEY_CHARS.fullmatch(key) is None
        or any(segment in ("", ".") or len(segment) > MAX_SEGMENT_LENGTH for segment in segments)
        or ".." in key
    ):
        raise InvalidInput("That is not a valid storage key.", code="invalid_blob_key",
                           details={"key": key[:MAX_KEY_LENGTH]})
    return key


def file_too_large(max_bytes: int) -> InvalidInput:
    """The one error for a body over its limit, raised as soon as the limit is crossed."""
    return InvalidInput(f"The file is larger than the limit of {max_bytes} bytes.",
                        code="file_too_large", details={"max_bytes": max_bytes})


async def read_limited(chunks: AsyncIterator[bytes], *, max_bytes: int) -> bytes:
    """Collect ``chunks`` into one body, stopping with ``file_too_large`` past ``max_bytes``."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > max_bytes:
            raise file_too_large(max_bytes)
    return bytes(body)


class BlobStore(Protocol):
    """Stores opaque byte objects under caller-made keys.

    Contract, for every adapter:

    - Keys pass :func:`check_blob_key`; anything else raises ``InvalidInput(invalid_blob_key)``
      before any I/O.
    - ``put`` consumes ``chunks`` lazily and counts as it goes: the moment the total exceeds
      ``max_bytes`` it stops reading, removes anything partially written and raises
      ``InvalidInput(file_too_large, details={"max_bytes": ...})``. A failed ``put`` leaves no
      object; a successful one replaces any previous object atomically and returns its size.
    - ``open`` yields the object's bytes in chunks; a missing key raises
      ``NotFound(blob_not_found)`` (``errors.not_found("blob", key)``) on first iteration.
    - ``read`` returns the whole object, refusing with ``file_too_large`` past ``max_bytes``.
    - ``delete`` is idempotent; ``exists`` never raises for a missing key.
    - ``ping`` checks the store is reachable and usable.
    - Vendor and OS failures surface as ``Unavailable(storage_unavailable)``.
    """

    async def put(
        self, key: str, chunks: AsyncIterator[bytes], *, max_bytes: int, content_type: str
    ) -> int: ...

    def open(self, key: str) -> AsyncIterator[bytes]: ...

    async def read(self, key: str, *, max_bytes: int) -> bytes: ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...

    async def ping(self) -> None: ...
