"""``GET /metrics``: this server's Prometheus metrics, in the text exposition format (with
``pantheon serve --workers N``, every worker's, merged, whichever worker answers).

Open on the embedded default; with ``PANTHEON_METRICS_TOKEN`` set, only for
``Authorization: Bearer <token>`` (401 ``invalid_metrics_token`` otherwise); in production
without a token, closed (403 ``metrics_token_required``). Not in the OpenAPI document: it
is for the operator's scraper, not the API's clients.
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response

from pantheon_adapters.bootstrap import check_metrics_access
from pantheon_http.deps import ContainerDep

router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
async def read_metrics(request: Request, container: ContainerDep) -> Response:
    check_metrics_access(container.settings, request.headers.get("authorization"))
    metrics = request.app.state.metrics
    # off the event loop: reading the queue depths may wait on Redis
    body = await anyio.to_thread.run_sync(metrics.exposition)
    return Response(body, media_type=metrics.content_type)
