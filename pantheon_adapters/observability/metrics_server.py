"""A ``/metrics`` endpoint for processes without an HTTP app: the worker.

``pantheon worker`` with ``PANTHEON_WORKER_METRICS_PORT`` serves its registry (job runs
and failures, job durations, queue depths, process stats) on
``PANTHEON_WORKER_METRICS_HOST`` (default 127.0.0.1), on threads of its own. When
``PANTHEON_METRICS_TOKEN`` is set, a scrape must send it as ``Authorization: Bearer …``,
exactly like the API's ``/metrics``.
"""

from __future__ import annotations

import hmac
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app

from pantheon_adapters.observability.metrics import Metrics

log = logging.getLogger("pantheon.metrics")

StartResponse = Callable[..., Any]
Environ = dict[str, Any]


class _ThreadingServer(WSGIServer):
    """One thread per scrape; daemon threads, so a stuck scrape never blocks shutdown."""

    daemon_threads = True

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self._handle, args=(request, client_address),
                                  daemon=True)
        thread.start()

    def _handle(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        finally:
            self.shutdown_request(request)


class _ThreadingServer6(_ThreadingServer):
    """The same on IPv6 (``::`` listens on every interface, IPv4 included on Linux)."""

    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not worth a log line each."""


def bearer_matches(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <token>`` (constant time)."""
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode())


def metrics_wsgi_app(metrics: Metrics, *, token: str | None) -> Callable[..., Iterable[bytes]]:
    """``GET /metrics`` in the Prometheus text format; 401 without the token (when set)."""
    exposition = make_wsgi_app(metrics.registry)

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not found: the metrics are at /metrics\n"]
        if token and not bearer_matches(environ.get("HTTP_AUTHORIZATION"), token):
            start_response("401 Unauthorized", [("Content-Type", "text/plain"),
                                                 ("WWW-Authenticate", "Bearer")])
            return [b"Send PANTHEON_METRICS_TOKEN as 'Authorization: Bearer <token>'.\n"]
        result: Iterable[bytes] = exposition(environ, start_response)
        return result

    return app


class MetricsServer:
    """Serves :func:`metrics_wsgi_app` on ``host:port`` (``port=0``: any free port)."""

    def __init__(self, metrics: Metrics, *, host: str, port: int,
                 token: str | None = None) -> None:
        server_class = _ThreadingServer6 if ":" in host else _ThreadingServer
        self._server = make_server(host, port, metrics_wsgi_app(metrics, token=token),
                                   server_class=server_class, handler_class=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="pantheon-metrics", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> MetricsServer:
        self._thread.start()
        log.info("Metrics at http://%s:%d/metrics", self._server.server_address[0], self.port)
        return self

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
