"""Shared model bases and the documented error body."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class RequestModel(BaseModel):
    """A request body: strict JSON types (``"1"`` is not a number, ``1`` is not a name);
    unknown fields are ignored so older clients keep working.

    Text must be storable: JSON can spell a NUL character (PostgreSQL refuses it) or half
    a surrogate pair (``"\\ud800"``, which is not UTF-8), so both are input errors here.
    """

    model_config = ConfigDict(strict=True, extra="ignore")

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and not is_storable(text):
                raise ValueError("Text may not contain NUL characters or unpaired surrogates")
        return value


def is_storable(text: str) -> bool:
    """Whether every database we support can store ``text`` as it is."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class ErrorBody(BaseModel):
    code: str = Field(description="Stable, machine-readable: `room_not_found`, `invalid_mode`…")
    message: str = Field(description="One sentence for a human.")
    details: dict[str, Any] = Field(description="Structured context; shape depends on `code`.")


class ErrorResponse(BaseModel):
    """Every error the API returns has this shape."""

    error: ErrorBody


_MEANING = {
    400: "Malformed request body (`malformed_json`).",
    401: "No or bad credentials (`not_authenticated`, `invalid_token`, `session_expired`…).",
    402: "Not enough credits (`insufficient_credits`, `credit_cap_reached`); nothing ran.",
    403: "Known caller, not allowed (`account_suspended`, `model_not_allowed`…).",
    404: "No such thing, or not yours (`room_not_found`, `agent_not_found`…).",
    409: "Clashes with the current state (`duplicate_agent_name`…).",
    410: "Existed, but can no longer be used (`restore_window_expired`).",
    422: "Breaks a rule (`invalid_mode`, `unknown_model_alias`…) or the schema "
         "(`validation_error`).",
    429: "Too many attempts (`rate_limited`, `too_many_running_turns`, "
         "`too_many_failed_signins`…); see the `Retry-After` header.",
    503: "A dependency is down or not configured, or the service is at capacity "
         "(`server_busy`, with `Retry-After`).",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the given error statuses."""
    return {status: {"model": ErrorResponse, "description": _MEANING[status]}
            for status in statuses}
