"""The app factory: ``uvicorn --factory pantheon_http.app:create_app``.

Nothing happens at import. ``create_app`` assembles routers, error handlers and
middleware; the lifespan builds the container (database, mailer, limiter…) once per
process and releases it at shutdown. Tests hand in a prebuilt container instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import metadata

from fastapi import FastAPI
from fastapi.routing import APIRoute

from pantheon_adapters.bootstrap import Container, Settings, build_container, load_settings
from pantheon_http.body_limit import BodyLimitMiddleware
from pantheon_http.docs import install_docs
from pantheon_http.errors import install_error_handlers
from pantheon_http.logs import configure_logging
from pantheon_http.middleware import RequestContextMiddleware
from pantheon_http.routers import agents, auth, health, me, modes, rooms, tokens

API_PREFIX = "/api/v1"
OPENAPI_URL = "/api/openapi.json"
MAX_BODY_BYTES = 1024 * 1024  # JSON bodies are small; uploads will need a larger cap

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
    {"name": "health", "description": "Liveness and readiness probes."},
]


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> FastAPI:
    """The HTTP app. With ``container`` the caller owns it (and closes it); otherwise the
    lifespan builds one from ``settings`` (default: the ``PANTHEON_*`` environment)."""
    settings = settings or (container.settings if container else load_settings())
    configure_logging(settings)
    app = FastAPI(
        title="Pantheon API", version=_version(), description=DESCRIPTION, openapi_tags=TAGS,
        openapi_url=OPENAPI_URL, docs_url=None, redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        lifespan=_lifespan(settings, container),
        generate_unique_id_function=_operation_id,
    )
    app.state.container = container
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(RequestContextMiddleware)  # added last: the outermost of the two
    for family in (auth, tokens, me, rooms, modes, agents):
        app.include_router(family.router, prefix=API_PREFIX)
    app.include_router(health.router)
    install_docs(app, openapi_url=OPENAPI_URL)
    return app


def _lifespan(settings: Settings,
              given: Container | None) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if given is not None:
            yield
            return
        container = await build_container(settings)
        app.state.container = container
        try:
            yield
        finally:
            app.state.container = None
            await container.aclose()

    return lifespan


def _operation_id(route: APIRoute) -> str:
    """OpenAPI operation ids are the endpoint names (``create_room``), for generated clients."""
    return route.name


def _version() -> str:
    try:
        return metadata.version("pantheon")
    except metadata.PackageNotFoundError:
        return "0.0.0"
