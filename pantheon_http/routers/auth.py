"""Sign-in by magic link, and sign-out (FR-AUTH-001).

``POST /magic-link`` e-mails a link; opening it shows a confirmation page; its button
(or an API client) posts the token to ``POST /verify``, which opens a session and sets
the ``pantheon_session`` cookie.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.responses import Response

from pantheon_adapters.bootstrap import Settings
from pantheon_core.errors import PantheonError, RateLimited
from pantheon_http import pages
from pantheon_http.auth import Caller, SessionToken
from pantheon_http.deps import ClientAddress, ContainerDep
from pantheon_http.errors import status_for
from pantheon_http.schemas.auth import MagicLinkRequest, MagicLinkSent, SignedIn
from pantheon_http.schemas.base import error_responses
from pantheon_http.session_cookie import clear_session_cookie, set_session_cookie
from pantheon_http.verify_submission import OPENAPI_BODY, Submission

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/magic-link", status_code=202, summary="E-mail a sign-in link",
             responses=error_responses(422, 429, 503))
async def request_magic_link(body: MagicLinkRequest, client: ClientAddress,
                             container: ContainerDep) -> MagicLinkSent:
    """Rate-limited per address and per client. The answer is the same whether or not
    the address has an account."""
    await container.use_cases.request_magic_link(body.email, client=client)
    minutes = container.settings.magic_link_ttl_minutes
    return MagicLinkSent(message=f"Check your inbox: a sign-in link is on its way. It works "
                                 f"once and expires in {minutes} minutes.")


@router.get("/verify", response_class=HTMLResponse, summary="Confirm a sign-in link")
async def confirm_magic_link(container: ContainerDep,
                             token: str = Query(description="From the e-mailed link.")
                             ) -> HTMLResponse:
    """Shows a page whose button spends the token; opening the link alone spends nothing."""
    return pages.confirm_sign_in(token, ttl_minutes=container.settings.magic_link_ttl_minutes,
                                 home=_web_home(container.settings))


@router.post("/verify", response_model=SignedIn, summary="Spend a sign-in link",
             openapi_extra=OPENAPI_BODY,
             responses={303: {"description": "Form post: signed in, redirected to the app."},
                        **error_responses(400, 401, 403, 422, 429)})
async def verify_magic_link(submission: Submission, caller: Caller,
                            container: ContainerDep) -> Response:
    """Opens a session and sets the ``pantheon_session`` cookie. JSON gets
    ``{user, expires_at}``; the confirmation page's form is redirected to ``/``.
    A client past too many failed sign-ins is refused (429 ``too_many_failed_signins``)
    without the token being looked at."""
    use_cases = container.use_cases
    try:
        async with use_cases.guard_sign_in(caller):
            signed_in = await use_cases.verify_magic_link(submission.token, caller=caller)
    except PantheonError as exc:
        if not submission.wants_html:
            raise
        failed = pages.sign_in_failed(exc.message, exc.code, status_for(exc),
                                      home=_web_home(container.settings))
        if isinstance(exc, RateLimited):
            failed.headers["Retry-After"] = str(exc.retry_after_s)
        return failed
    response: Response
    if submission.from_form:  # to the web app (PANTHEON_WEB_URL when it lives elsewhere)
        response = RedirectResponse(_web_home(container.settings), status_code=303)
    else:
        response = JSONResponse(SignedIn.of(signed_in).model_dump(mode="json"))
    set_session_cookie(response, signed_in.session_token, container.settings)
    return response


@router.post("/logout", status_code=204, response_class=Response, summary="Sign out")
async def logout(session: SessionToken, caller: Caller, container: ContainerDep) -> Response:
    """Ends this browser's session and clears its cookie. Signing out twice is fine."""
    if session:
        await container.use_cases.logout(session, caller=caller)
    response = Response(status_code=204)
    clear_session_cookie(response, container.settings)
    return response


def _web_home(settings: Settings) -> str:
    """The web app's home: ``PANTHEON_WEB_URL`` when it is hosted apart, else ``/`` here."""
    return f"{settings.web_url.rstrip('/')}/" if settings.web_url else "/"
