"""Throttling failed sign-ins per client (NFR-SEC-005 hardening).

Every check of a guessable sign-in secret runs inside ``guard_sign_in``::

    async with use_cases.guard_sign_in(caller):
        actor = await use_cases.authenticate_api_token(secret)

- Counted, per client address: a credential refused as not valid (401) — an unknown,
  expired or used magic link, an unknown, revoked or expired API token or session, a
  rejected identity token. Not counted: a success, no credential at all
  (``not_authenticated``), a right secret of a suspended or deleted account, an outage.
- The failure that reaches ``AuthPolicy.failed_signins_per_client`` (the 20th within 15
  minutes) is answered 429 ``too_many_failed_signins`` with ``Retry-After``, and so is
  every sign-in of that client for the next 15 minutes, before its secret is checked;
  audited once per window as a refused ``auth.sign_in`` whose target is the client address
  (see ``throttle.py``).
- A valid credential costs nothing more: the guard's check is in memory, and the limiter is
  called only when a check fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pantheon_core.actor import Actor
from pantheon_core.errors import Unauthenticated
from pantheon_core.usecases.deps import Deps, UseCase
from pantheon_core.usecases.signin import SIGN_IN
from pantheon_core.usecases.throttle import FailureThrottle, Refusal

TOO_MANY_FAILED_SIGNINS = "too_many_failed_signins"
NOT_A_GUESS = "not_authenticated"  # no credential sent, or a right one of a deleted account


class GuardSignIn(UseCase):
    """Refuses a client past too many failed sign-ins; counts the failures it guards."""

    def __init__(self, deps: Deps) -> None:
        super().__init__(deps)
        self._throttle = FailureThrottle(
            deps, name="signin:failed", rule=deps.auth.failed_signins_per_client,
            refusal=Refusal(code=TOO_MANY_FAILED_SIGNINS, what="failed sign-ins",
                            action=SIGN_IN))

    @asynccontextmanager
    async def __call__(self, caller: Actor) -> AsyncIterator[None]:
        self._throttle.check(caller)
        try:
            yield
        except Unauthenticated as exc:
            if exc.code != NOT_A_GUESS:
                await self._throttle.failed(caller)
            raise
