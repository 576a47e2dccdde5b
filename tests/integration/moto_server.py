"""moto's standalone S3 server on loopback, for the S3 blob store's contract tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"  # moto accepts any credentials
REGION = "us-east-1"


@contextmanager
def moto_s3_server() -> Iterator[str]:
    """Run a fresh moto server on 127.0.0.1 with a free port; yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
