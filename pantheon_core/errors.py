"""One error tree for the whole product.

Every error carries a stable ``code`` (the API and CLI contract), a human
``message`` and optional ``details``. Delivery packages map the *category*
(the direct subclass of :class:`PantheonError`) to a transport status in one
table; the code says exactly what went wrong.

    PantheonError
    ├── InvalidInput         the request is well-formed but breaks a rule     (422)
    ├── NotFound             no such thing, or not yours                      (404)
    ├── Conflict             clashes with the current state                   (409)
    ├── Gone                 existed, but can no longer be used               (410)
    ├── Unauthenticated      no or bad credentials                            (401)
    ├── PaymentRequired      not enough credits to do this                    (402)
    ├── Forbidden            known caller, not allowed                        (403)
    ├── RateLimited          too many attempts; retry later                   (429)
    └── Unavailable          a dependency is down or not configured          (503)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class PantheonError(Exception):
    """Base of every error the product reports to a caller."""

    code: ClassVar[str] = "error"

    def __init__(
        self, message: str, *, code: str | None = None, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]  # per-instance refinement of the class default
        self.details: dict[str, Any] = dict(details or {})

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidInput(PantheonError):
    code = "invalid_input"


class NotFound(PantheonError):
    code = "not_found"


class Conflict(PantheonError):
    code = "conflict"


class Gone(PantheonError):
    code = "gone"


class Unauthenticated(PantheonError):
    code = "not_authenticated"


class PaymentRequired(PantheonError):
    code = "payment_required"


class Forbidden(PantheonError):
    code = "forbidden"


class RateLimited(PantheonError):
    """Too many attempts: ``retry_after_s`` (also in ``details``) says when to try again."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int, code: str | None = None,
                 details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, code=code,
                         details={**(details or {}), "retry_after_s": retry_after_s})
        self.retry_after_s = retry_after_s


class Unavailable(PantheonError):
    """A dependency is down, not configured or saturated; with ``retry_after_s`` (also in
    ``details``) the caller is told when trying again makes sense."""

    code = "unavailable"

    def __init__(self, message: str, *, code: str | None = None,
                 details: Mapping[str, Any] | None = None,
                 retry_after_s: int | None = None) -> None:
        extra = {} if retry_after_s is None else {"retry_after_s": retry_after_s}
        super().__init__(message, code=code, details={**(details or {}), **extra})
        self.retry_after_s = retry_after_s


def not_found(kind: str, ref: str) -> NotFound:
    """The one way to say "no such X": also used for things that exist but are not the caller's."""
    return NotFound(f"{kind.capitalize()} {ref!r} was not found.", code=f"{kind}_not_found",
                    details={"kind": kind, "ref": ref})
