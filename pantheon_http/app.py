"""The app factory: ``uvicorn --factory pantheon_http.app:create_app``.

Nothing happens at import. ``create_app`` assembles routers, error handlers and
middleware; the lifespan builds the container (database, mailer, limiter…) once per
process and releases it at shutdown. Tests hand in a prebuilt container instead.

While the app runs, a sweeper ends turns left ``running`` by a process that died
(at start, then every ``sweep_interval_s``). At shutdown, running turns get the
container's grace period to finish; those still running then end as ``interrupted``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import metadata
from pathlib import Path

import anyio
from fastapi import FastAPI
from fastapi.routing import APIRoute

from pantheon_adapters.bootstrap import (
    Container,
    Settings,
    build_container,
    load_settings,
    new_metrics,
)
from pantheon_http.browser_policy import BrowserPolicy
from pantheon_http.cors import CorsHeaders, CorsPreflight
from pantheon_http.csrf import CsrfMiddleware
from pantheon_http.docs import install_docs
from pantheon_http.errors import install_error_handlers
from pantheon_http.file_transfer import MAX_UPLOAD_BODY_BYTES
from pantheon_http.logs import configure_logging
from pantheon_http.middleware import RequestContextMiddleware
from pantheon_http.routers import (
    admin,
    agents,
    auth,
    billing,
    dev_outbox,
    direct,
    files,
    health,
    me,
    models,
    modes,
    room_chat,
    rooms,
    tokens,
    turns,
    webhooks,
)
from pantheon_http.routers.metrics import router as metrics_router
from pantheon_http.security_headers import SecurityHeadersMiddleware
from pantheon_http.streaming import KEEPALIVE_S
from pantheon_http.upload_limit import BodyLimitByPath
from pantheon_http.web import install_web

API_PREFIX = "/api/v1"
OPENAPI_URL = "/api/openapi.json"
MAX_BODY_BYTES = 1024 * 1024  # JSON bodies are small; file uploads have their own cap
SWEEP_INTERVAL_S = 30.0

logger = logging.getLogger("pantheon.http.app")

DESCRIPTION = """
Pantheon: rooms of AI agents that answer in **manual**, **roundtable** or **orchestrator** mode.

Authenticate with the `pantheon_session` cookie (magic-link sign-in) or
`Authorization: Bearer pan_…` (a personal API token). Every error has the shape
`{"error": {"code", "message", "details"}}`, and every response carries `X-Request-ID`.
"""

TAGS = [
    {"name": "auth", "description": "Magic-link sign-in, sessions and personal API tokens."},
    {"name": "me", "description": "The signed-in user."},
    {"name": "rooms", "description": "Your rooms; deleted ones are restorable for 7 days."},
    {"name": "modes", "description": "Choosing a room's mode; it applies at the next send."},
    {"name": "agents", "description": "A room's agents, their models, prompts and tools."},
    {"name": "chat", "description": "Sending to a room, its sessions and its timeline."},
    {"name": "turns", "description": "A turn's snapshot and live events (SSE or NDJSON); "
                                     "resume with `Last-Event-ID` or `?after=`."},
    {"name": "direct", "description": "1:1 chats with a single agent."},
    {"name": "files", "description": "Files agents can read: upload with a signed link, "
                                     "list, download, delete and restore."},
    {"name": "models", "description": "Model aliases, prices and the credit formula."},
    {"name": "billing", "description": "Your wallet, ledger and usage; quotes; plans, "
                                       "top-ups and Stripe checkout."},
    {"name": "admin", "description": "Owners and analysts: users and their controls (caps, "
                                     "suspension, model policies, grants), the manager model, "
                                     "usage, costs and active users (JSON or CSV), the audit "
                                     "log, rollups and job runs."},
    {"name": "webhooks", "description": "Events from Stripe (no credentials: signed)."},
    {"name": "health", "description": "Liveness and readiness probes."},
]


def create_app(settings: Settings | None = None, *, container: Container | None = None,
               stream_keepalive_s: float = KEEPALIVE_S,
               sweep_interval_s: float = SWEEP_INTERVAL_S,
               web_dir: Path | None = None) -> FastAPI:
    """The HTTP app. With ``container`` the caller owns it (and closes it); otherwise the
    lifespan builds one from ``settings`` (default: the ``PANTHEON_*`` environment).
    ``web_dir`` is the web app's static export (default: ``web/out`` of this checkout)."""
    settings = settings or (container.settings if container else load_settings())
    configure_logging(settings)
    app = FastAPI(
        title="Pantheon API", version=_version(), description=DESCRIPTION, openapi_tags=TAGS,
        openapi_url=OPENAPI_URL, docs_url=None, redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        lifespan=_lifespan(settings, container, sweep_interval_s),
        generate_unique_id_function=_operation_id,
    )
    app.state.container = container
    app.state.metrics = container.metrics if container else new_metrics()  # GET /metrics
    app.state.stream_keepalive_s = stream_keepalive_s
    app.state.browser_policy = BrowserPolicy.of(settings)  # CORS, CSRF, HSTS (per request)
    install_error_handlers(app)
    app.add_middleware(BodyLimitByPath, max_bytes=MAX_BODY_BYTES,
                       upload_prefix=f"{API_PREFIX}/uploads/",
                       upload_max_bytes=MAX_UPLOAD_BODY_BYTES)
    # Signed requests (webhooks, upload links) carry their own proof: no CSRF check.
    app.add_middleware(CsrfMiddleware, exempt_prefixes=(f"{API_PREFIX}/webhooks/",
                                                        f"{API_PREFIX}/uploads/"))
    app.add_middleware(CorsPreflight)
    app.add_middleware(RequestContextMiddleware)
    # Outside the request context, so its last-resort 500 gets these headers too.
    app.add_middleware(CorsHeaders)
    app.add_middleware(SecurityHeadersMiddleware)  # added last: the outermost
    for family in (auth, dev_outbox, tokens, me, rooms, modes, agents, room_chat, turns, direct,
                   files, models, billing, admin, webhooks):
        app.include_router(family.router, prefix=API_PREFIX)
    app.include_router(health.router)
    app.include_router(metrics_router)
    install_docs(app, openapi_url=OPENAPI_URL)
    install_web(app, web_dir)
    return app


def _lifespan(settings: Settings, given: Container | None,
              sweep_interval_s: float) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        container = given or await build_container(settings, metrics=app.state.metrics)
        app.state.container = container
        # A plain task, not a task group around ``yield``: errors of the app's lifetime
        # reach whoever runs it as they are, not wrapped in an ExceptionGroup.
        sweeper = asyncio.create_task(_sweep_forever(container, sweep_interval_s),
                                      name="pantheon:sweep-interrupted-turns")
        try:
            yield
        finally:
            sweeper.cancel()
            await asyncio.gather(sweeper, return_exceptions=True)
            if given is None:
                app.state.container = None
                try:
                    await container.aclose()  # running turns end first, then the adapters
                finally:
                    app.state.metrics.close()  # this worker's in-flight gauges leave the sums

    return lifespan


async def _sweep_forever(container: Container, interval_s: float) -> None:
    """End turns orphaned by a dead process, release credit holds of calls that never
    settled, and tick the periodic-job scheduler (rollups, plan rollover, purges, stuck
    parses — one process fires each run, however many schedule): once now, then every
    ``interval_s``."""
    while True:
        try:
            swept = await container.use_cases.sweep_interrupted_turns()
            released = await container.use_cases.sweep_reservations()
            scheduled = await container.use_cases.tick_scheduler()
        except Exception:  # a failed sweep (database down…) is retried next time
            logger.exception("sweeping interrupted turns and stuck files failed")
        else:
            if swept:
                logger.warning("ended %d turn(s) interrupted by a stopped process", swept)
            if scheduled:
                logger.info("scheduled %s", ", ".join(scheduled))
            if released:
                logger.warning("released %d credit hold(s) left by a stopped process", released)
        await anyio.sleep(interval_s)


def _operation_id(route: APIRoute) -> str:
    """OpenAPI operation ids are the endpoint names (``create_room``), for generated clients."""
    return route.name


def _version() -> str:
    try:
        return metadata.version("pantheon")
    except metadata.PackageNotFoundError:
        return "0.0.0"
