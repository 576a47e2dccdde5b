"""The development outbox's newest sign-in link, for the web app's sign-in screen.

On the embedded default, mail goes to a directory (``OutboxMailer``) instead of anyone's
inbox, so signing in needs that directory (``pantheon auth link EMAIL``). This endpoint hands
the newest link to the browser, and only where that cannot leak a sign-in:

- the server is not in production (``PANTHEON_ENV`` is not ``production``),
- its mailer is the outbox (no SMTP: nobody can receive real mail anyway),
- its public URL is on this machine (``localhost``, ``127.0.0.0/8``, ``::1``),
- and the caller is on this machine too (a loopback client address).

Anywhere else it answers 404 ``not_found``, exactly like a path that is not served.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, Query, Request

from pantheon_adapters.bootstrap import Settings
from pantheon_core.errors import NotFound
from pantheon_http.deps import ClientAddress, ContainerDep
from pantheon_http.schemas.auth import DevOutboxLink
from pantheon_http.schemas.base import error_responses

router = APIRouter(prefix="/auth/dev", tags=["auth"])


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def dev_outbox_enabled(settings: Settings, client: str) -> bool:
    """Whether this server, asked by ``client``, may hand out outbox links (see the module)."""
    return (settings.env != "production"
            and settings.effective_mail_backend == "outbox"
            and _is_loopback(urlsplit(settings.public_url).hostname)
            and _is_loopback(client))


@router.get("/outbox/latest", summary="Development only: the newest sign-in link in the outbox",
            responses=error_responses(404, 422))
async def latest_outbox_link(
    request: Request, container: ContainerDep, client: ClientAddress,
    email: Annotated[str, Query(min_length=3, max_length=254, pattern=r"^[^\x00-\x1f\x7f]+$",
                                description="The address the link was sent to.")],
) -> DevOutboxLink:
    """Only on a local development server whose mail goes to the outbox, asked from the same
    machine; 404 `not_found` anywhere else. 404 `link_not_found` when the outbox holds no
    sign-in link for that address."""
    if not dev_outbox_enabled(container.settings, client):
        raise NotFound(f"Nothing is served at {request.url.path}.", code="not_found")
    link = await anyio.to_thread.run_sync(container.latest_login_link, email)
    if link is None:
        raise NotFound("The development outbox holds no sign-in link for that address.",
                       code="link_not_found")
    return DevOutboxLink(email=email.strip().lower(), link=link)
