"""Every error leaves the API in one shape: ``{"error": {"code", "message", "details"}}``.

One table maps core error categories to status codes; the code says what went wrong.
A few codes have a more precise status of their own (``STATUS_BY_CODE``)::

    PantheonError (core)      -> STATUS_BY_CODE (413 file_too_large, 415 unsupported_file_type)
                                 else STATUS_BY_CATEGORY (401, 402, 403, 404, 409, 410, 422, 429,
                                 503)
    RequestValidationError    -> 400 malformed_json | 415 unsupported_media_type
                                 | 422 validation_error
    HTTPException (Starlette) -> its status: not_found, method_not_allowed, ...
    anything else             -> 500 internal_error, logged with its traceback

A 500 means a bug or an outage on our side, never a caller's mistake: bad input is
always one of the typed 4xx answers above.

One route answers a code with a status of its own, because the caller's convention says
so: the Stripe webhook answers ``invalid_signature`` with 400 (signed file links answer
that code with 403, its category's status).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from pantheon_core.errors import (
    Conflict,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    PantheonError,
    PaymentRequired,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from pantheon_http.request_id import current_request_id

logger = logging.getLogger("pantheon.http.errors")

STATUS_BY_CATEGORY: Final[Mapping[type[PantheonError], int]] = {
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    Unauthenticated: 401,
    PaymentRequired: 402,  # insufficient_credits, credit_cap_reached
    Forbidden: 403,
    RateLimited: 429,
    Unavailable: 503,
}

# Codes whose HTTP status says more than their category's (both are InvalidInput, 422).
STATUS_BY_CODE: Final[Mapping[str, int]] = {
    "file_too_large": 413,
    "unsupported_file_type": 415,
}

_CODE_BY_STATUS: Final[Mapping[int, str]] = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
}


def status_for(exc: PantheonError) -> int:
    """The status of an error's code or else its category; an error outside every category
    is our bug (500)."""
    if exc.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[exc.code]
    for kind in type(exc).__mro__:
        status = STATUS_BY_CATEGORY.get(kind)
        if status is not None:
            return status
    return 500


def error_response(status: int, code: str, message: str, details: Mapping[str, Any] | None = None,
                   *, headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": dict(details or {})}}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


async def pantheon_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PantheonError)
    status = status_for(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited | Unavailable) and exc.retry_after_s is not None:
        headers["Retry-After"] = str(max(1, exc.retry_after_s))
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="pantheon"'
    if status >= 500:  # an outage (503) is worth a warning; an uncategorised error is a bug
        logger.log(logging.ERROR if status == 500 else logging.WARNING,
                   "%s %s answered %d %s: %s", request.method, request.url.path, status,
                   exc.code, exc.message)
    return error_response(status, exc.code, exc.message, exc.details, headers=headers)


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    broken = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if broken is not None:
        reason = (broken.get("ctx") or {}).get("error", "invalid JSON")
        position = broken["loc"][-1] if len(broken.get("loc", ())) > 1 else None
        return error_response(400, "malformed_json",
                              f"The request body is not valid JSON: {reason}.",
                              {"position": position})
    if any(e.get("loc") == ("body",) and isinstance(e.get("input"), bytes) for e in errors):
        # The body arrived, but not as JSON: FastAPI parses JSON only when it is declared.
        return error_response(415, "unsupported_media_type",
                              "Send the request body as JSON, with "
                              "'Content-Type: application/json'.")
    fields = [_field_error(e) for e in errors]
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return error_response(422, "validation_error", f"The request is invalid: {summary}.",
                          {"errors": fields})


def _field_error(error: Mapping[str, Any]) -> dict[str, Any]:
    """One pydantic error as plain JSON: where (``body``/``query``/…), which field, what."""
    loc = [str(part) for part in error.get("loc", ())]
    return {"location": loc[0] if loc else "request", "field": ".".join(loc[1:]) or "(body)",
            "message": str(error.get("msg", "is invalid")).removeprefix("Value error, "),
            "type": str(error.get("type", ""))}


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    code = _code_for_status(status)
    if status == 400 and _is_json(request):
        code = "malformed_json"
    message = {
        404: f"Nothing is served at {request.url.path}.",
        405: f"{request.method} is not allowed on {request.url.path}.",
    }.get(status) or str(exc.detail)
    details: dict[str, Any] = {}
    if status == 405 and exc.headers and "Allow" in exc.headers:
        details["allowed"] = [m.strip() for m in exc.headers["Allow"].split(",")]
    return error_response(status, code, message, details, headers=exc.headers)


def internal_error_response(exc: BaseException) -> JSONResponse:
    """The last resort for an exception nothing else handled: log it whole, say little."""
    request_id = current_request_id()
    logger.error("Unhandled %s (request %s)", type(exc).__name__, request_id, exc_info=exc)
    return error_response(
        500, "internal_error",
        f"Something went wrong on our side. If it keeps happening, quote request id {request_id}.",
        {"request_id": request_id},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers; unhandled exceptions reach ``RequestContextMiddleware``."""
    app.add_exception_handler(PantheonError, pantheon_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(HTTPException, http_error_handler)


def _code_for_status(status: int) -> str:
    """``not_found``, ``method_not_allowed``…: the table, else the status phrase in snake case."""
    if status in _CODE_BY_STATUS:
        return _CODE_BY_STATUS[status]
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "http_error"
    return "_".join(phrase.lower().replace("-", " ").replace("'", "").split())


def _is_json(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")
