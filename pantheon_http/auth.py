"""Who is calling: the ``CurrentActor`` dependency (FR-AUTH-002).

Credentials are tried in this order, and the first one present decides:

1. ``Authorization: Bearer pan_…``  -> a personal API token
2. ``Authorization: Bearer <other>`` -> an external identity token (a Supabase JWT)
3. the ``pantheon_session`` cookie   -> a browser session from a magic link
   (``__Host-pantheon_session`` in production: see ``session_cookie.py``)

No credentials at all is ``401 not_authenticated``; bad ones are the use case's own
401 (``invalid_token``, ``session_expired``). A credential that is present is never
silently skipped in favour of the next one. Each check of one runs inside
``guard_sign_in``: a client past too many bad ones is refused (429
``too_many_failed_signins``) before its credential is looked at.

The actor is tagged with the request id and the client address, which the audit log
records for every admin write (and every refused one).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from pantheon_core import correlation
from pantheon_core.actor import Actor
from pantheon_core.domain.credentials import API_TOKEN_PREFIX
from pantheon_core.errors import Unauthenticated
from pantheon_core.usecases.catalog import UseCases
from pantheon_http.deps import ClientAddress, ContainerDep, UseCasesDep
from pantheon_http.request_id import current_request_id
from pantheon_http.session_cookie import SESSION_COOKIE, read_session_cookie

bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name="BearerToken",
    description="A personal API token (`pan_…`, from POST /api/v1/auth/tokens) "
                "or a Supabase access token.",
)
session_scheme = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, scheme_name="SessionCookie",
    description="The browser session set by POST /api/v1/auth/verify (named "
                "`__Host-pantheon_session` in production).",
)

BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


async def session_token(request: Request, container: ContainerDep,
                        _documented: Annotated[str | None, Depends(session_scheme)]) -> str | None:
    """The session cookie under this deployment's name (``__Host-pantheon_session`` in
    production); ``session_scheme`` only documents it in the OpenAPI schema."""
    return read_session_cookie(request, container.settings)


SessionToken = Annotated[str | None, Depends(session_token)]


async def current_actor(use_cases: UseCasesDep, bearer: BearerCredentials,
                        session: SessionToken, client: ClientAddress) -> Actor:
    caller = Actor.anonymous(request_id=current_request_id(), client=client)
    actor = await _authenticate(use_cases, caller, bearer, session)
    correlation.bind(user_id=actor.user_id)  # the request's own context: undone with it
    return actor.via(request_id=caller.request_id, client=client)


async def _authenticate(use_cases: UseCases, caller: Actor,
                        bearer: HTTPAuthorizationCredentials | None,
                        session: str | None) -> Actor:
    if bearer is not None:
        token = bearer.credentials
        async with use_cases.guard_sign_in(caller):
            if token.startswith(API_TOKEN_PREFIX):
                return await use_cases.authenticate_api_token(token)
            return await use_cases.authenticate_external(token)
    if session:
        async with use_cases.guard_sign_in(caller):
            return await use_cases.authenticate_session(session)
    raise Unauthenticated(  # nothing to guess: never refused as too many failures
        "Sign in first, or send an API token as 'Authorization: Bearer pan_…'.",
        code="not_authenticated",
    )


CurrentActor = Annotated[Actor, Depends(current_actor)]


async def anonymous_caller(client: ClientAddress) -> Actor:
    """Whoever calls a route that needs no credentials (sign-in, a webhook), for the audit
    log: this request's id and the client's address."""
    return Actor.anonymous(request_id=current_request_id(), client=client)


Caller = Annotated[Actor, Depends(anonymous_caller)]
