"""What a process's entry point calls: logs and error reports at start, metrics access.

Reached from the delivery packages through ``pantheon_adapters.bootstrap``.
"""

from __future__ import annotations

from pantheon_adapters.observability.logs import configure_logging
from pantheon_adapters.observability.metrics import Metrics
from pantheon_adapters.observability.metrics_server import MetricsServer, bearer_matches
from pantheon_adapters.observability.sentry import init_sentry
from pantheon_adapters.settings import Settings
from pantheon_core.errors import Forbidden, Unauthenticated


def setup_observability(settings: Settings, *, service: str) -> None:
    """Logging in the configured format, then Sentry when a DSN is set (idempotent)."""
    configure_logging(settings, service=service)
    init_sentry(settings, service=service)


def check_metrics_access(settings: Settings, authorization: str | None) -> None:
    """Who may read ``/metrics``: with ``metrics_token`` set, whoever sends it as a bearer
    token; without one, anybody in development (the embedded default) and nobody in
    production, where process internals are not published by accident."""
    token = settings.metrics_token
    if token:
        if not bearer_matches(authorization, token):
            raise Unauthenticated("Send PANTHEON_METRICS_TOKEN as 'Authorization: Bearer "
                                  "<token>' to read the metrics.", code="invalid_metrics_token")
        return
    if settings.env == "production":
        raise Forbidden("Metrics are not published in production until PANTHEON_METRICS_TOKEN "
                        "is set; scrape them with that token.", code="metrics_token_required")


def start_worker_metrics(settings: Settings, metrics: Metrics, *,
                         port_offset: int = 0) -> MetricsServer | None:
    """The worker's ``/metrics`` on ``worker_metrics_port + port_offset`` (the n-th worker
    process of ``pantheon worker --processes N`` adds n), or ``None`` when the port is unset."""
    if settings.worker_metrics_port is None:
        return None
    server = MetricsServer(metrics, host=settings.worker_metrics_host,
                           port=settings.worker_metrics_port + port_offset,
                           token=settings.metrics_token)
    return server.start()
