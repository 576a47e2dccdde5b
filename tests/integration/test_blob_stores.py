"""The ``BlobStore`` contract, run against the local store and the S3 store (moto on loopback)."""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from pantheon_adapters.storage.local import LocalBlobStore
from pantheon_core.errors import InvalidInput, NotFound
from pantheon_core.ports.blob_store import BlobStore
from tests.integration.moto_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, moto_s3_server

HAS_MOTO = importlib.util.find_spec("moto") is not None
KIB = 1024
MIB = 1024 * KIB
LIMIT = 20 * MIB


class Counted:
    """An upload body in fixed-size chunks that records how many were pulled."""

    def __init__(self, total: int, *, chunk: int = 64 * KIB) -> None:
        self.data = os.urandom(total)
        self.chunk = chunk
        self.pulled = 0

    @property
    def chunks_total(self) -> int:
        return -(-len(self.data) // self.chunk)

    async def __call__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.data), self.chunk):
            self.pulled += 1
            yield self.data[start:start + self.chunk]


async def body(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def collect(store: BlobStore, key: str) -> bytes:
    return b"".join([chunk async for chunk in store.open(key)])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    if not HAS_MOTO:
        pytest.skip("moto is not installed (pip install 'moto[server]', a dev dependency)")
    with moto_s3_server() as endpoint:
        yield endpoint


@asynccontextmanager
async def s3_admin(endpoint: str) -> AsyncIterator[Any]:
    """A plain client to set up and inspect the bucket, apart from the store under test."""
    import aiobotocore.session

    session = aiobotocore.session.get_session()
    async with session.create_client(
        "s3", endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
    ) as admin:
        yield admin


async def _s3_store(endpoint: str, bucket: str | None = None) -> AsyncIterator[BlobStore]:
    from pantheon_adapters.storage.s3 import S3BlobStore

    bucket = bucket or f"pantheon-{uuid.uuid4().hex[:12]}"
    async with s3_admin(endpoint) as admin:
        await admin.create_bucket(Bucket=bucket)
    store = S3BlobStore(bucket, endpoint_url=endpoint, region=REGION,
                        access_key_id=ACCESS_KEY_ID, secret_access_key=SECRET_ACCESS_KEY,
                        prefix="files", part_size=5 * MIB)
    try:
        yield store
    finally:
        await store.aclose()


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    if request.param == "local":
        yield LocalBlobStore(tmp_path / "blobs")
        return
    async for s3_store in _s3_store(request.getfixturevalue("s3_endpoint")):
        yield s3_store


async def test_small_round_trip(store: BlobStore) -> None:
    size = await store.put("rooms/r1/f1", body(b"hello ", b"world"), max_bytes=LIMIT,
                           content_type="text/plain")
    assert size == 11
    assert await collect(store, "rooms/r1/f1") == b"hello world"
    assert await store.read("rooms/r1/f1", max_bytes=11) == b"hello world"
    assert await store.exists("rooms/r1/f1")


async def test_empty_body_round_trip(store: BlobStore) -> None:
    assert await store.put("empty", body(), max_bytes=LIMIT, content_type="text/plain") == 0
    assert await store.exists("empty")
    assert await store.read("empty", max_bytes=0) == b""


async def test_large_round_trip_uses_many_parts(store: BlobStore) -> None:
    upload = Counted(12 * MIB + 123)
    size = await store.put("rooms/r1/big.bin", upload(), max_bytes=LIMIT,
                           content_type="application/octet-stream")
    assert size == len(upload.data)
    assert await collect(store, "rooms/r1/big.bin") == upload.data


async def test_put_replaces_previous_object(store: BlobStore) -> None:
    await store.put("k", body(b"first"), max_bytes=LIMIT, content_type="text/plain")
    await store.put("k", body(b"second"), max_bytes=LIMIT, content_type="text/plain")
    assert await store.read("k", max_bytes=LIMIT) == b"second"


@pytest.mark.parametrize("total", [100 * KIB, 7 * MIB])  # before and after the first S3 part
async def test_oversize_upload_stops_early_and_stores_nothing(
    store: BlobStore, total: int
) -> None:
    upload = Counted(total + 10 * MIB)
    with pytest.raises(InvalidInput) as caught:
        await store.put("too/big", upload(), max_bytes=total, content_type="text/plain")
    assert caught.value.code == "file_too_large"
    assert caught.value.details == {"max_bytes": total}
    assert upload.pulled == total // upload.chunk + 1  # the chunk that crossed the limit, no more
    assert upload.pulled < upload.chunks_total
    assert not await store.exists("too/big")


async def test_oversize_upload_keeps_the_previous_object(store: BlobStore) -> None:
    await store.put("keep", body(b"old"), max_bytes=LIMIT, content_type="text/plain")
    with pytest.raises(InvalidInput):
        await store.put("keep", body(b"x" * 10), max_bytes=5, content_type="text/plain")
    assert await store.read("keep", max_bytes=LIMIT) == b"old"


async def test_failed_upload_stores_nothing(store: BlobStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * MIB
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        await store.put("half", broken(), max_bytes=LIMIT, content_type="text/plain")
    assert not await store.exists("half")


async def test_read_refuses_past_its_limit(store: BlobStore) -> None:
    await store.put("ten", body(b"0123456789"), max_bytes=LIMIT, content_type="text/plain")
    with pytest.raises(InvalidInput) as caught:
        await store.read("ten", max_bytes=9)
    assert caught.value.code == "file_too_large"


@pytest.mark.parametrize("key", [
    "", "/abs", "a/../b", "..", "a/./b", "a//b", "trailing/", "name with space", "ü", "a\\b",
    "a\x00b", "x/" * 256 + "x", "x" * 256, "dots..inside",
])
async def test_bad_keys_are_refused(store: BlobStore, key: str) -> None:
    calls = [
        store.put(key, body(b"x"), max_bytes=LIMIT, content_type="text/plain"),
        store.read(key, max_bytes=LIMIT),
        collect(store, key),
        store.delete(key),
        store.exists(key),
    ]
    for call in calls:
        with pytest.raises(InvalidInput) as caught:
            await call
        assert caught.value.code == "invalid_blob_key"


async def test_longest_valid_key_is_accepted(store: BlobStore) -> None:
    key = "a/" + "k" * 254 + "/" + "k" * 255
    assert len(key) == 512
    await store.put(key, body(b"x"), max_bytes=LIMIT, content_type="text/plain")
    assert await store.exists(key)


async def test_delete_is_idempotent(store: BlobStore) -> None:
    await store.put("gone", body(b"x"), max_bytes=LIMIT, content_type="text/plain")
    await store.delete("gone")
    await store.delete("gone")
    await store.delete("never/was")
    assert not await store.exists("gone")


async def test_missing_blob_is_not_found(store: BlobStore) -> None:
    assert not await store.exists("missing/key")
    with pytest.raises(NotFound) as caught:
        await collect(store, "missing/key")
    assert caught.value.code == "blob_not_found"
    with pytest.raises(NotFound):
        await store.read("missing/key", max_bytes=LIMIT)


async def test_concurrent_puts_of_different_keys(store: BlobStore) -> None:
    bodies = {f"many/{n}": os.urandom(200 * KIB + n) for n in range(8)}

    async def put(key: str, data: bytes) -> None:
        await store.put(key, body(data[:1000], data[1000:]), max_bytes=LIMIT,
                        content_type="application/octet-stream")

    async with anyio.create_task_group() as tg:
        for key, data in bodies.items():
            tg.start_soon(put, key, data)
    for key, data in bodies.items():
        assert await store.read(key, max_bytes=LIMIT) == data


async def test_ping(store: BlobStore) -> None:
    await store.ping()


async def test_s3_failed_multipart_upload_is_aborted(s3_endpoint: str) -> None:
    bucket = f"pantheon-{uuid.uuid4().hex[:12]}"
    async for store in _s3_store(s3_endpoint, bucket):
        upload = Counted(20 * MIB)
        with pytest.raises(InvalidInput):
            await store.put("big", upload(), max_bytes=11 * MIB, content_type="text/plain")
        async with s3_admin(s3_endpoint) as admin:
            pending = await admin.list_multipart_uploads(Bucket=bucket)
            listed = await admin.list_objects_v2(Bucket=bucket)
        assert pending.get("Uploads", []) == []
        assert listed.get("KeyCount", 0) == 0


async def test_s3_keys_live_under_the_prefix(s3_endpoint: str) -> None:
    bucket = f"pantheon-{uuid.uuid4().hex[:12]}"
    async for store in _s3_store(s3_endpoint, bucket):
        await store.put("a/b", body(b"x"), max_bytes=LIMIT, content_type="text/plain")
        async with s3_admin(s3_endpoint) as admin:
            listed = await admin.list_objects_v2(Bucket=bucket)
            head = await admin.head_object(Bucket=bucket, Key="files/a/b")
        assert [item["Key"] for item in listed["Contents"]] == ["files/a/b"]
        assert head["ContentType"] == "text/plain"


async def test_local_upload_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    await store.put("a/b", body(b"x"), max_bytes=LIMIT, content_type="text/plain")
    with pytest.raises(InvalidInput):
        await store.put("a/c", body(b"x" * 10), max_bytes=5, content_type="text/plain")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b"]


async def test_local_symlink_out_of_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"s")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    store = LocalBlobStore(root)
    with pytest.raises(InvalidInput) as caught:
        await collect(store, "link/secret")
    assert caught.value.code == "invalid_blob_key"


async def test_s3_unreachable_is_unavailable() -> None:
    if not HAS_MOTO:
        pytest.skip("moto is not installed")
    from pantheon_adapters.storage.s3 import S3BlobStore
    from pantheon_core.errors import Unavailable

    store = S3BlobStore("b", endpoint_url="http://127.0.0.1:9", region=REGION,
                        access_key_id="x", secret_access_key="y")
    try:
        with pytest.raises(Unavailable) as caught:
            await store.ping()
        assert caught.value.code == "storage_unavailable"
    finally:
        await store.aclose()
