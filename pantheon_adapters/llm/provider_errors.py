"""Provider failures, translated once into :class:`ProviderError` with a stable code.

::

    ProviderError.code
    ├── HTTP status before the stream starts
    │   ├── rate_limited                   429        retryable, Retry-After honoured
    │   ├── provider_unavailable           502 503 504 retryable, Retry-After honoured
    │   ├── provider_error                 500, other 5xx  retryable
    │   ├── provider_timeout               408        retryable
    │   ├── insufficient_provider_credits  402        final
    │   ├── provider_auth_failed           401        final
    │   ├── model_not_found                404        final
    │   ├── request_too_large              413        final
    │   └── provider_rejected              400 403 422, other 4xx  final
    ├── provider_stream_error   an ``error`` event after HTTP 200 (retryable if it means overload)
    ├── transport
    │   ├── provider_unreachable    could not connect              retryable
    │   ├── provider_timeout        no byte within the read timeout retryable
    │   ├── provider_disconnected   connection lost / stream cut short  retryable
    │   └── provider_misconfigured  the base URL is not http(s)     final
    └── provider_bad_response   a body that is not the chat completions format  final
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from pantheon_core.ports.chat_model import ProviderError, Usage

_BY_STATUS: dict[int, tuple[str, bool]] = {
    400: ("provider_rejected", False),
    401: ("provider_auth_failed", False),
    402: ("insufficient_provider_credits", False),
    403: ("provider_rejected", False),  # OpenRouter: moderation flagged the input
    404: ("model_not_found", False),
    408: ("provider_timeout", True),
    413: ("request_too_large", False),
    422: ("provider_rejected", False),
    429: ("rate_limited", True),
    500: ("provider_error", True),
    502: ("provider_unavailable", True),
    503: ("provider_unavailable", True),
    504: ("provider_unavailable", True),
}
# Error codes inside a mid-stream ``error`` event that mean "busy, try again".
_OVERLOAD_CODES = frozenset({"429", "502", "503"})
_MAX_DETAIL = 500


def status_error(provider: str, status: int, body: bytes,
                 headers: Mapping[str, str]) -> ProviderError:
    """The error for a non-2xx answer, with the provider's own message when it gave one."""
    code, retryable = _BY_STATUS.get(
        status, ("provider_error", True) if status >= 500 else ("provider_rejected", False))
    retry_after = retry_after_s(headers.get("retry-after")) if retryable else None
    return ProviderError(f"{provider} answered HTTP {status}: {error_detail(body)}",
                         code=code, retryable=retryable, status=status,
                         retry_after_s=retry_after)


def stream_error(provider: str, error: object, *, usage: Usage | None,
                 generation_id: str | None) -> ProviderError:
    """The error for an ``{"error": ...}`` event received after HTTP 200."""
    raw_code = str(error.get("code")) if isinstance(error, Mapping) else ""
    status = int(raw_code) if raw_code.isdigit() else None
    return ProviderError(f"{provider} failed mid-stream: {_message_of(error)}",
                         code="provider_stream_error",
                         retryable=raw_code in _OVERLOAD_CODES, status=status,
                         usage=usage, generation_id=generation_id)


def transport_error(provider: str, exc: httpx.HTTPError, *, usage: Usage | None,
                    generation_id: str | None) -> ProviderError:
    """The error for an httpx exception raised while connecting or reading."""
    code, retryable = _transport_code(exc)
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return ProviderError(f"{provider}: {detail}", code=code, retryable=retryable,
                         usage=usage, generation_id=generation_id)


def bad_response(provider: str, detail: str, *, usage: Usage | None = None,
                 generation_id: str | None = None) -> ProviderError:
    return ProviderError(f"{provider} sent an unreadable response: {detail[:_MAX_DETAIL]}",
                         code="provider_bad_response", retryable=False,
                         usage=usage, generation_id=generation_id)


def disconnected(provider: str, *, usage: Usage | None,
                 generation_id: str | None) -> ProviderError:
    return ProviderError(f"{provider} ended the stream before it was complete",
                         code="provider_disconnected", retryable=True,
                         usage=usage, generation_id=generation_id)


def retry_after_s(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; None if unusable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def error_detail(body: bytes) -> str:
    """The human message in an error body: OpenRouter/OpenAI, Ollama, vLLM, or raw text."""
    error = error_object(body)
    if error is not None:
        return _message_of(error)
    return body.decode("utf-8", errors="replace").strip()[:_MAX_DETAIL] or "(empty body)"


def error_object(body: bytes) -> object | None:
    """The ``error`` member of a JSON error body (or the body itself if it has ``message``)."""
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(parsed, Mapping):
        return None
    if "error" in parsed:
        error: object = parsed["error"]
        return error
    return parsed if "message" in parsed or "detail" in parsed else None


def _message_of(error: object) -> str:
    if isinstance(error, str):
        return error[:_MAX_DETAIL]
    if not isinstance(error, Mapping):
        return json.dumps(error, default=str)[:_MAX_DETAIL]
    message = error.get("message") or error.get("detail") or json.dumps(error, default=str)
    metadata = error.get("metadata")
    upstream = metadata.get("provider_name") if isinstance(metadata, Mapping) else None
    suffix = f" (upstream provider: {upstream})" if upstream else ""
    return f"{message}{suffix}"[:_MAX_DETAIL]


def _transport_code(exc: httpx.HTTPError) -> tuple[str, bool]:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return "provider_unreachable", True
    if isinstance(exc, httpx.TimeoutException):
        return "provider_timeout", True
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError
                  | httpx.CloseError):
        return "provider_disconnected", True
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "provider_misconfigured", False
    if isinstance(exc, httpx.DecodingError):
        return "provider_bad_response", False
    return "provider_unreachable", True
