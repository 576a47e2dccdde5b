"""``BlobStore`` over an S3-compatible bucket (Supabase Storage, MinIO, AWS S3).

Uses aiobotocore: a native async client, so a slow upload or download holds no worker thread and
cancellation reaches the socket. Small bodies go up in one ``PutObject``; once a body reaches
``part_size`` it switches to a multipart upload, which is aborted on any failure, cancellation or
oversize, so an unfinished upload never becomes a visible object. Addressing is path-style and
checksums are sent only when required, which S3-compatible servers accept.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import AsyncExitStack, aclosing, contextmanager, suppress
from typing import Any

import aiohttp
import anyio
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from pantheon_core.errors import Unavailable, not_found
from pantheon_core.ports.blob_store import check_blob_key, file_too_large, read_limited

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's floor for every part but the last
CHUNK_SIZE = 64 * 1024
_VENDOR_ERRORS = (BotoCoreError, ClientError, aiohttp.ClientError, OSError)
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


@contextmanager
def _storage_errors() -> Iterator[None]:
    """Map vendor and transport failures once, to the core's ``Unavailable``."""
    try:
        yield
    except _VENDOR_ERRORS as exc:
        raise Unavailable("File storage is not available.", code="storage_unavailable") from exc


@contextmanager
def _within(seconds: float) -> Iterator[None]:
    """Bound one S3 request (not a streamed body): past ``seconds``, ``storage_unavailable``."""
    try:
        with anyio.fail_after(seconds):
            yield
    except TimeoutError as exc:
        raise Unavailable(f"File storage did not answer within {seconds:g} s.",
                          code="storage_unavailable") from exc


def _is_missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in _MISSING


class S3BlobStore:
    """Stores blobs as objects ``prefix + key`` in one bucket. Call :meth:`aclose` when done.

    Budgets: ``connect_timeout_s`` and ``read_timeout_s`` (each read) per HTTP attempt,
    ``max_attempts`` in all per request (botocore's standard retry mode: 5xx, throttling and
    connection errors, with backoff), and ``call_timeout_s`` for each request as a whole,
    retries included — every request but the streamed bodies, whose length is bounded by
    the size limits and whose every read by ``read_timeout_s``.
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None,
        region: str,
        access_key_id: str,
        secret_access_key: str,
        prefix: str = "",
        part_size: int = 8 * 1024 * 1024,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 60.0,
        max_attempts: int = 3,
        call_timeout_s: float = 30.0,
    ) -> None:
        if prefix:
            prefix = check_blob_key(prefix.strip("/")) + "/"
        self._bucket = bucket
        self._prefix = prefix
        self._part_size = max(part_size, MIN_PART_SIZE)
        self._call_timeout_s = call_timeout_s
        self._client_args: dict[str, Any] = {
            "endpoint_url": endpoint_url,
            "region_name": region,
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
            "config": Config(
                s3={"addressing_style": "path"},
                signature_version="s3v4",
                retries={"max_attempts": max(1, max_attempts), "mode": "standard"},
                connect_timeout=connect_timeout_s,
                read_timeout=read_timeout_s,
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        }
        self._stack = AsyncExitStack()
        self._client: Any = None
        self._lock = anyio.Lock()

    async def _s3(self) -> Any:
        """The client, opened on first use inside the running event loop."""
        async with self._lock:
            if self._client is None:
                creator = get_session().create_client("s3", **self._client_args)
                self._client = await self._stack.enter_async_context(creator)
            return self._client

    async def aclose(self) -> None:
        async with self._lock:
            await self._stack.aclose()
            self._client = None

    def _object_key(self, key: str) -> str:
        return self._prefix + check_blob_key(key)

    async def put(
        self, key: str, chunks: AsyncIterator[bytes], *, max_bytes: int, content_type: str
    ) -> int:
        target = {"Bucket": self._bucket, "Key": self._object_key(key)}
        s3 = await self._s3()
        upload = _Multipart(s3, target, content_type, call_timeout_s=self._call_timeout_s)
        try:
            with _storage_errors():
                total, rest = await self._stream_parts(chunks, upload, max_bytes=max_bytes)
                if upload.upload_id is None:
                    with _within(self._call_timeout_s):
                        await s3.put_object(**target, Body=rest, ContentType=content_type)
                else:
                    await upload.finish(rest)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await upload.abort()
            raise
        return total

    async def _stream_parts(
        self, chunks: AsyncIterator[bytes], upload: _Multipart, *, max_bytes: int
    ) -> tuple[int, bytes]:
        """Send full parts as they fill; return the total and the unsent tail."""
        total = 0
        buffer = bytearray()
        async for chunk in chunks:
            total += len(chunk)
            if total > max_bytes:
                raise file_too_large(max_bytes)
            buffer += chunk
            if len(buffer) >= self._part_size:
                await upload.send(bytes(buffer))
                buffer.clear()
        return total, bytes(buffer)

    def open(self, key: str) -> AsyncIterator[bytes]:
        return self._chunks(key)

    async def _chunks(self, key: str) -> AsyncGenerator[bytes, None]:
        object_key = self._object_key(key)
        s3 = await self._s3()
        with _storage_errors():
            try:
                with _within(self._call_timeout_s):
                    response = await s3.get_object(Bucket=self._bucket, Key=object_key)
            except ClientError as exc:
                if _is_missing(exc):
                    raise not_found("blob", key) from exc
                raise
            async with response["Body"] as body:
                async for chunk in body.iter_chunks(CHUNK_SIZE):
                    yield chunk

    async def read(self, key: str, *, max_bytes: int) -> bytes:
        async with aclosing(self._chunks(key)) as chunks:
            return await read_limited(chunks, max_bytes=max_bytes)

    async def delete(self, key: str) -> None:
        object_key = self._object_key(key)
        s3 = await self._s3()
        with _storage_errors(), _within(self._call_timeout_s):
            await s3.delete_object(Bucket=self._bucket, Key=object_key)  # idempotent in S3

    async def exists(self, key: str) -> bool:
        object_key = self._object_key(key)
        s3 = await self._s3()
        with _storage_errors():
            try:
                with _within(self._call_timeout_s):
                    await s3.head_object(Bucket=self._bucket, Key=object_key)
            except ClientError as exc:
                if _is_missing(exc):
                    return False
                raise
            return True

    async def ping(self) -> None:
        s3 = await self._s3()
        with _storage_errors(), _within(self._call_timeout_s):
            await s3.head_bucket(Bucket=self._bucket)


class _Multipart:
    """One multipart upload, started lazily by the first full part."""

    def __init__(self, s3: Any, target: dict[str, str], content_type: str, *,
                 call_timeout_s: float) -> None:
        self._s3 = s3
        self._call_timeout_s = call_timeout_s
        self._target = target
        self._content_type = content_type
        self.upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    async def send(self, body: bytes) -> None:
        if self.upload_id is None:
            with _within(self._call_timeout_s):
                created = await self._s3.create_multipart_upload(
                    **self._target, ContentType=self._content_type)
            self.upload_id = str(created["UploadId"])
        number = len(self._parts) + 1
        with _within(self._call_timeout_s):
            sent = await self._s3.upload_part(
                **self._target, UploadId=self.upload_id, PartNumber=number, Body=body)
        self._parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    async def finish(self, rest: bytes) -> None:
        if rest:
            await self.send(rest)
        with _within(self._call_timeout_s):
            await self._s3.complete_multipart_upload(
                **self._target, UploadId=self.upload_id, MultipartUpload={"Parts": self._parts})
        self.upload_id = None  # completed: nothing left to abort

    async def abort(self) -> None:
        if self.upload_id is None:
            return
        upload_id, self.upload_id = self.upload_id, None
        # Best effort, and never masking the error that got us here: a failed abort is left to
        # the bucket's lifecycle rule for stale multipart uploads.
        with suppress(*_VENDOR_ERRORS), anyio.move_on_after(10):
            await self._s3.abort_multipart_upload(**self._target, UploadId=upload_id)
