"""Failed sign-ins and bad webhook signatures are throttled per client (NFR-SEC-005
hardening): the core use cases over fakes, with the in-memory rate limiter on the fake clock.

Past the limit a client is refused (429) before its secret is checked, a right one too,
until the window lets it in again; other clients and successes are unaffected; the
refusal is audited once per window; a valid credential never reaches the limiter.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest

from pantheon_adapters.limits.memory import MemoryRateLimiter
from pantheon_core.actor import Actor
from pantheon_core.domain.audit import AuditEvent, AuditOutcome
from pantheon_core.domain.users import UserStatus
from pantheon_core.errors import (
    Forbidden,
    InvalidInput,
    PantheonError,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from pantheon_core.ports.payments import PaymentEvent
from pantheon_core.ports.rate_limiter import RateDecision, RateLimit
from pantheon_core.usecases.catalog import UseCases
from pantheon_core.usecases.deps import AuthPolicy, BillingPolicy
from tests.fakes import FakeUnitOfWork, fake_app
from tests.unit.helpers import sign_up

ADA = "ada@example.com"
EVE = Actor.anonymous(request_id="req-eve", client="203.0.113.66")
ADA_AT_HOME = Actor.anonymous(request_id="req-ada", client="198.51.100.7")
LIMIT, WINDOW_S = 3, 900


class RecordingLimiter(MemoryRateLimiter):
    """The in-memory limiter, recording every key it is asked about."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.keys: list[str] = []

    async def hit(self, key: str, rule: RateLimit) -> RateDecision:
        self.keys.append(key)
        return await super().hit(key, rule)


class DownLimiter:
    async def hit(self, key: str, rule: RateLimit) -> RateDecision:
        raise Unavailable("Redis is down.", code="rate_limiter_unavailable")


class Throttled:
    """A fake app whose use cases throttle at ``LIMIT`` failures per ``WINDOW_S``; counts
    the units of work opened (a database round trip each) and the signatures verified."""

    def __init__(self, *, limiter: object | None = None, shared: Throttled | None = None) -> None:
        base = shared.app if shared else fake_app(payments=SignedPayments())
        self.limiter = shared.limiter if shared else RecordingLimiter(base.clock)
        self.units = 0

        def uow() -> FakeUnitOfWork:
            self.units += 1
            return FakeUnitOfWork(base.store)

        deps = replace(base.uc.verify_magic_link.deps, uow=uow,
                       limiter=limiter or self.limiter,  # type: ignore[arg-type]
                       auth=AuthPolicy(failed_signins_per_client=RateLimit(LIMIT, WINDOW_S)),
                       billing=BillingPolicy(bad_signatures_per_client=RateLimit(LIMIT,
                                                                                 WINDOW_S)))
        self.app = replace(base, uc=UseCases.build(deps))  # another process when ``shared``

    @property
    def uc(self) -> UseCases:
        return self.app.uc

    async def api_token(self, secret: str, caller: Actor = EVE) -> Actor:
        async with self.uc.guard_sign_in(caller):
            return await self.uc.authenticate_api_token(secret)

    async def session(self, secret: str, caller: Actor = EVE) -> Actor:
        async with self.uc.guard_sign_in(caller):
            return await self.uc.authenticate_session(secret)

    async def link(self, token: str, caller: Actor = EVE) -> object:
        async with self.uc.guard_sign_in(caller):
            return await self.uc.verify_magic_link(token, caller=caller)

    async def external(self, token: str, caller: Actor = EVE) -> Actor:
        async with self.uc.guard_sign_in(caller):
            return await self.uc.authenticate_external(token)

    async def fail(self, times: int = LIMIT - 1, caller: Actor = EVE) -> None:
        """Wrong API tokens, each refused as invalid (by default up to just below the limit)."""
        for n in range(times):
            with pytest.raises(Unauthenticated):
                await self.api_token(f"pan_guess{n}", caller)

    async def lock_out(self, caller: Actor = EVE) -> RateLimited:
        """Failures up to the limit: the last one is answered 429."""
        await self.fail(LIMIT - 1, caller)
        with pytest.raises(RateLimited) as err:
            await self.api_token("pan_last-guess", caller)
        return err.value

    def refusals(self, action: str = "auth.sign_in") -> list[AuditEvent]:
        return [e for e in self.app.store.audit_events
                if e.action == action and e.reason.startswith("too_many_")]


async def ada_token(t: Throttled) -> str:
    ada = await sign_up(t.app, ADA)
    return (await t.uc.create_api_token(ada, name="laptop")).secret


def assert_refused(error: RateLimited, code: str, retry_after_s: int) -> None:
    assert error.code == code
    assert error.retry_after_s == retry_after_s
    assert error.details == {"limit": LIMIT, "window_s": WINDOW_S, "retry_after_s": retry_after_s}
    assert f"try again in {retry_after_s} s" in error.message


# --- sign-ins ---------------------------------------------------------------------------


async def test_at_the_limit_even_a_right_token_is_refused_before_it_is_checked() -> None:
    t = Throttled()
    secret = await ada_token(t)
    error = await t.lock_out()  # the failure that reaches the limit
    assert_refused(error, "too_many_failed_signins", WINDOW_S)
    assert error.message.startswith("Too many failed sign-ins from your address (3 within "
                                    "15 minutes)")
    units, asked = t.units, len(t.limiter.keys)
    t.app.clock.advance(seconds=100)
    with pytest.raises(RateLimited) as err:
        await t.api_token(secret)
    assert_refused(err.value, "too_many_failed_signins", WINDOW_S - 100)
    # not looked up (no unit of work) and not counted (no limiter call): refused in memory
    assert (t.units, len(t.limiter.keys)) == (units, asked)


@pytest.mark.parametrize("kind", ["link", "api_token", "session", "external"])
async def test_every_kind_of_sign_in_secret_counts_and_is_refused(kind: str) -> None:
    t = Throttled()
    attempt = getattr(t, kind)
    for n in range(LIMIT - 1):
        with pytest.raises(Unauthenticated):
            await attempt(f"guess-{n}")
    with pytest.raises(RateLimited) as err:
        await attempt("guess-again")
    assert err.value.code == "too_many_failed_signins"


async def test_failures_of_every_kind_share_one_count_per_client() -> None:
    t = Throttled()
    with pytest.raises(Unauthenticated):
        await t.session("pss_bad")
    with pytest.raises(Unauthenticated):
        await t.external("not-a-jwt")
    with pytest.raises(RateLimited):
        await t.link("bad-link")
    await t.uc.request_magic_link(ADA, client="198.51.100.7")
    with pytest.raises(RateLimited):  # a real link, refused unspent
        await t.link(t.app.mailer.last_link_token())
    assert all(link.used_at is None for link in t.app.store.links.values())


async def test_the_window_passing_lets_the_client_in_again() -> None:
    t = Throttled()
    secret = await ada_token(t)
    await t.fail(1)
    t.app.clock.advance(seconds=300)
    with pytest.raises(Unauthenticated):
        await t.api_token("pan_guess")
    with pytest.raises(RateLimited):  # at 300 s: the third failure
        await t.api_token("pan_guess")
    t.app.clock.advance(seconds=WINDOW_S - 1)
    with pytest.raises(RateLimited) as err:  # refused for a whole window from the lock-out
        await t.api_token(secret)
    assert err.value.retry_after_s == 1
    t.app.clock.advance(seconds=1)
    assert (await t.api_token(secret)).email == ADA
    await t.fail(LIMIT - 1)  # every earlier failure has left the window: a fresh count
    with pytest.raises(RateLimited):
        await t.api_token("pan_guess")


async def test_other_clients_are_not_affected() -> None:
    t = Throttled()
    secret = await ada_token(t)
    await t.lock_out()
    assert (await t.api_token(secret, ADA_AT_HOME)).email == ADA
    with pytest.raises(Unauthenticated):  # her own typo counts for her address only
        await t.api_token("pan_typo", ADA_AT_HOME)
    with pytest.raises(RateLimited):
        await t.api_token(secret)


async def test_successes_do_not_count_and_never_reach_the_limiter() -> None:
    t = Throttled()
    secret = await ada_token(t)
    await t.uc.request_magic_link(ADA, client="198.51.100.7")
    signed_in = await t.link(t.app.mailer.last_link_token())
    t.limiter.keys.clear()
    units = t.units
    for _ in range(10 * LIMIT):
        assert (await t.api_token(secret)).email == ADA
        assert (await t.session(signed_in.session_token)).email == ADA  # type: ignore[attr-defined]
    assert t.limiter.keys == []
    # one unit of work per check, as without the guard
    assert t.units - units == 2 * 10 * LIMIT
    await t.fail(LIMIT - 1)  # the successes left the whole allowance to failures
    assert t.limiter.keys == [f"signin:failed:{EVE.client}"] * (LIMIT - 1)


async def test_right_secrets_of_suspended_or_missing_accounts_are_not_guesses() -> None:
    t = Throttled()
    secret = await ada_token(t)
    ada = await sign_up(t.app, ADA)
    assert ada.user_id is not None
    user = t.app.store.users[ada.user_id]
    t.app.store.users[ada.user_id] = user.with_status(UserStatus.SUSPENDED)
    for _ in range(2 * LIMIT):
        with pytest.raises(Forbidden):
            await t.api_token(secret)
    del t.app.store.users[ada.user_id]
    for _ in range(2 * LIMIT):
        with pytest.raises(Unauthenticated) as err:
            await t.api_token(secret)
        assert err.value.code == "not_authenticated"
    assert t.limiter.keys == []


async def test_the_refusal_is_audited_once_per_window() -> None:
    t = Throttled()
    await t.lock_out()
    for _ in range(50):  # a flood of attempts after it
        with pytest.raises(RateLimited):
            await t.api_token("pan_guess")
    [refusal] = t.refusals()
    assert (refusal.outcome, refusal.target, refusal.actor_label) == (
        AuditOutcome.REFUSED, EVE.client, "anonymous")
    assert (refusal.client, refusal.request_id) == (EVE.client, EVE.request_id)
    assert refusal.reason == ("too_many_failed_signins: Too many failed sign-ins from your "
                              "address (3 within 15 minutes); try again in 900 s.")
    t.app.clock.advance(seconds=WINDOW_S)
    await t.lock_out()
    assert len(t.refusals()) == 2  # a new window, a new entry


async def test_magic_link_failures_are_audited_up_to_the_limit_then_only_the_refusal() -> None:
    t = Throttled()
    for n in range(LIMIT + 20):
        with pytest.raises(PantheonError):
            await t.link(f"bad-{n}")
    sign_ins = [e.reason.split(":")[0] for e in t.app.store.audit_events]
    assert sign_ins == ["magic_link_invalid"] * LIMIT + ["too_many_failed_signins"]


async def test_processes_sharing_a_limiter_share_the_count_and_the_audit_entry() -> None:
    """Two API processes on one (Redis-like) limiter: the second learns of the refusal
    at the client's first failure there, and does not audit it again."""
    first = Throttled()
    second = Throttled(shared=first)
    secret = await ada_token(first)
    await first.lock_out()
    assert (await second.api_token(secret)).email == ADA  # it has not seen a failure yet
    with pytest.raises(RateLimited):
        await second.api_token("pan_guess")
    with pytest.raises(RateLimited):
        await second.api_token(secret)
    assert len(first.refusals()) == 1


async def test_an_unreachable_limiter_costs_the_count_not_the_answer(
        caplog: pytest.LogCaptureFixture) -> None:
    t = Throttled(limiter=DownLimiter())
    secret = await ada_token(t)
    with caplog.at_level(logging.WARNING, logger="pantheon.throttle"):
        for n in range(2 * LIMIT):
            with pytest.raises(Unauthenticated) as err:
                await t.api_token(f"pan_guess{n}")
            assert err.value.code == "invalid_token"
    assert "Not counting one of the failed sign-ins from 203.0.113.66" in caplog.text
    assert (await t.api_token(secret)).email == ADA


# --- webhook signatures -----------------------------------------------------------------


class SignedPayments:
    """Our payments port's fake: genuine when signed ``good``; counts verifications."""

    def __init__(self) -> None:
        self.verified = 0

    def verify(self, payload: bytes, signature: str) -> PaymentEvent:
        self.verified += 1
        if signature != "good":
            raise InvalidInput("Bad signature.", code="invalid_signature",
                               details={"reason": "signature_mismatch"})
        raw = json.loads(payload)
        return PaymentEvent(id=raw["id"], kind=raw["type"], created=1, data={})


def delivery(n: int) -> bytes:
    return json.dumps({"id": f"evt_{n}", "type": "customer.created"}).encode()


async def test_bad_signatures_at_the_limit_are_refused_unverified_and_audited_once() -> None:
    t = Throttled()
    payments = t.uc.handle_payment_event.deps.payments
    assert isinstance(payments, SignedPayments)
    for n in range(LIMIT - 1):
        with pytest.raises(InvalidInput):
            await t.uc.handle_payment_event(delivery(n), "forged", caller=EVE)
    with pytest.raises(RateLimited) as err:
        await t.uc.handle_payment_event(delivery(9), "forged", caller=EVE)
    assert_refused(err.value, "too_many_bad_signatures", WINDOW_S)
    assert "Too many bad webhook signatures" in err.value.message
    verified = payments.verified
    for _ in range(20):
        with pytest.raises(RateLimited):
            await t.uc.handle_payment_event(delivery(9), "good", caller=EVE)
    assert payments.verified == verified  # refused without verifying
    signatures = [(e.reason.split(":")[0], e.target, e.client) for e in t.app.store.audit_events
                  if e.action == "webhook.signature"]
    assert signatures == [("invalid_signature", "stripe", EVE.client)] * (LIMIT - 1) + [
        ("too_many_bad_signatures", "stripe", EVE.client)]
    assert not t.app.store.payment_events
    # Stripe, from its own address, is not limited; nor are sign-ins from the sender's
    assert await t.uc.handle_payment_event(delivery(1), "good", caller=ADA_AT_HOME) == "ignored"
    with pytest.raises(Unauthenticated):
        await t.api_token("pan_guess")
    t.app.clock.advance(seconds=WINDOW_S)
    assert await t.uc.handle_payment_event(delivery(2), "good", caller=EVE) == "ignored"


async def test_valid_signatures_never_count() -> None:
    t = Throttled()
    for n in range(10 * LIMIT):
        assert await t.uc.handle_payment_event(delivery(n), "good", caller=EVE) == "ignored"
    assert t.limiter.keys == []
    for n in range(LIMIT - 1):
        with pytest.raises(InvalidInput):
            await t.uc.handle_payment_event(delivery(n), "forged", caller=EVE)
