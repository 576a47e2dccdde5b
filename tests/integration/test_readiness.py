"""``/readyz`` on real adapters: the database, Redis (when configured) and file storage (a
writable directory, or a reachable S3 bucket), each within the readiness timeout, so a hung
dependency answers 503 quickly instead of hanging the probe."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import anyio
import httpx
import pytest

from pantheon_adapters.bootstrap import Container, Settings, build_container
from pantheon_http.app import create_app
from tests.integration.moto_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY
from tests.integration.test_blob_stores import s3_admin, s3_endpoint  # noqa: F401 (fixture)

TIMEOUT_S = 1.5  # long enough for healthy checks on a busy machine, short for a test


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path, "public_url": "http://testserver", "redis_url": None,
        "database_url": None, "readiness_timeout_s": TIMEOUT_S, **overrides}
    return Settings(**values)  # type: ignore[arg-type]


@contextmanager
def black_hole() -> Iterator[int]:
    """A port that accepts connections and never says a word (a hung server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


@asynccontextmanager
async def container_for(settings: Settings) -> AsyncIterator[Container]:
    container = await build_container(settings)
    try:
        yield container
    finally:
        await container.aclose()


async def _readyz(container: Container) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(container=container))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        with anyio.fail_after(10):  # a guard against a hang, not a measurement
            return await client.get("/readyz")


async def test_the_embedded_default_is_ready(tmp_path: Path) -> None:
    async with container_for(_settings(tmp_path)) as container:
        response = await _readyz(container)
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "storage": "ok"}}


async def test_a_hung_redis_answers_503_within_the_timeout(tmp_path: Path) -> None:
    with black_hole() as port:
        settings = _settings(tmp_path, redis_url=f"redis://127.0.0.1:{port}/0")
        async with container_for(settings) as container:
            response = await _readyz(container)
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"] == f"error: no answer within {TIMEOUT_S:g} s"
    assert checks["database"] == "ok" and checks["storage"] == "ok"


async def test_a_hung_database_answers_503_within_the_timeout(tmp_path: Path) -> None:
    with black_hole() as port:
        settings = _settings(tmp_path, database_url=f"postgresql://u@127.0.0.1:{port}/db",
                             auto_migrate=False)
        async with container_for(settings) as container:
            response = await _readyz(container)
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == f"error: no answer within {TIMEOUT_S:g} s"
    assert checks["storage"] == "ok"


async def test_an_unwritable_storage_directory_is_not_ready(tmp_path: Path) -> None:
    in_the_way = tmp_path / "files"
    in_the_way.write_text("a file where the storage directory should be")
    async with container_for(_settings(tmp_path, storage_dir=in_the_way)) as container:
        response = await _readyz(container)
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["storage"].startswith("error: ") and checks["database"] == "ok"


@pytest.mark.parametrize("bucket_exists", [True, False], ids=["bucket", "no-bucket"])
async def test_s3_storage_is_ready_when_its_bucket_answers(
        tmp_path: Path, s3_endpoint: str, bucket_exists: bool) -> None:  # noqa: F811
    bucket = f"pantheon-{uuid.uuid4().hex[:12]}"
    if bucket_exists:
        async with s3_admin(s3_endpoint) as admin:
            await admin.create_bucket(Bucket=bucket)
    settings = _settings(tmp_path, s3_bucket=bucket, s3_endpoint_url=s3_endpoint,
                         s3_region=REGION, s3_access_key_id=ACCESS_KEY_ID,
                         s3_secret_access_key=SECRET_ACCESS_KEY,
                         readiness_timeout_s=10)  # the S3 client's first start is slow
    async with container_for(settings) as container:
        response = await _readyz(container)
    checks = response.json()["checks"]
    assert checks["database"] == "ok", checks
    if bucket_exists:
        assert response.status_code == 200 and checks["storage"] == "ok"
    else:
        assert response.status_code == 503 and checks["storage"].startswith("error: ")
