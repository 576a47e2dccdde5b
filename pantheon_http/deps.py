"""Dependencies every router shares: the container, its use cases, the caller's address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pantheon_adapters.bootstrap import Container
from pantheon_core.errors import Unavailable
from pantheon_core.usecases.catalog import UseCases


async def get_container(request: Request) -> Container:
    """The container the app's lifespan built (or the one ``create_app`` was given)."""
    container: Container | None = getattr(request.app.state, "container", None)
    if container is None:
        raise Unavailable("The server is starting or stopping; try again in a moment.",
                          code="not_ready")
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_use_cases(container: ContainerDep) -> UseCases:
    return container.use_cases


UseCasesDep = Annotated[UseCases, Depends(get_use_cases)]


async def client_address(request: Request) -> str:
    """Who is calling, for rate limiting and the audit log: the peer's IP address.

    Behind a reverse proxy, run uvicorn with ``--proxy-headers`` (and trusted
    ``--forwarded-allow-ips``) so this is the real client, not the proxy.
    """
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]
