"""Reading ``POST /auth/verify``: a JSON body (API clients) or a form (the confirmation page).

FastAPI can declare one body type per route, so this dependency reads either and
reports problems exactly as declared bodies do: broken JSON is ``malformed_json``,
a wrong shape is ``validation_error``, another media type is 415.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from pantheon_http.schemas.auth import VerifyRequest

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": VerifyRequest.model_json_schema()},
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "required": ["token"],
                           "properties": {"token": {"type": "string"}}},
            },
        },
    },
}


@dataclass(frozen=True, slots=True)
class VerifySubmission:
    token: str
    from_form: bool  # the confirmation page's button, i.e. a browser navigation
    wants_html: bool


async def read_verify_submission(request: Request) -> VerifySubmission:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in FORM_TYPES:
        form = await request.form()
        token = form.get("token")
        return VerifySubmission(token=token if isinstance(token, str) else "", from_form=True,
                                wants_html="text/html" in request.headers.get("accept", ""))
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise HTTPException(415, "Send the token as JSON ({\"token\": …}) or as a form field.")
    payload = _parse_json(await request.body())
    try:
        body = VerifyRequest.model_validate(payload)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors, body=payload) from exc
    return VerifySubmission(token=body.token, from_form=False, wants_html=False)


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        position = exc.pos if isinstance(exc, json.JSONDecodeError) else exc.start
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body", position), "msg": "JSON decode error",
              "input": {}, "ctx": {"error": reason}}],
            body=raw,
        ) from exc


Submission = Annotated[VerifySubmission, Depends(read_verify_submission)]
