"""Every outbound call gives up within its budget (NFR-REL-003), against servers on loopback
that accept a connection and then never answer (a "black hole"), refuse, or fail then work.

Each adapter must end with its typed error instead of hanging; ``anyio.fail_after`` around
each call is only a guard against a hang (nothing here asserts how long a call took).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pantheon_adapters.auth.jwks import JwksKeys
from pantheon_adapters.events.redis import RedisTurnEvents
from pantheon_adapters.limits.redis import RedisRateLimiter
from pantheon_adapters.limits.redis_slots import RedisSlotLeases
from pantheon_adapters.llm.openrouter_stats import OpenRouterStats
from pantheon_adapters.mail.smtp import SmtpMailer
from pantheon_adapters.payments.stripe import StripePayments
from pantheon_adapters.redis_options import RedisTimeouts
from pantheon_adapters.sql.database import Database
from pantheon_adapters.storage.s3 import S3BlobStore
from pantheon_core.domain.events import EventType, TurnEvent
from pantheon_core.errors import PantheonError, Unauthenticated, Unavailable
from pantheon_core.ids import TurnId
from pantheon_core.ports.mailer import MailMessage
from pantheon_core.ports.rate_limiter import RateLimit
from pantheon_core.ports.slot_leases import SlotPool
from tests.fakes import FakeClock
from tests.integration.local_server import serve_in_thread

GUARD_S = 20  # only to turn a hang into a failure
FAST = RedisTimeouts(connect_s=0.5, command_s=0.2, retries=1)


@dataclass
class BlackHole:
    """A TCP server that accepts connections, counts them, and never sends a byte."""

    port: int = 0
    accepted: int = 0
    _held: list[socket.socket] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)
    hole = BlackHole(port=listener.getsockname()[1])
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            hole.accepted += 1
            hole._held.append(conn)

    thread = threading.Thread(target=accept, daemon=True, name="black-hole")
    thread.start()
    try:
        yield hole
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in hole._held:
            conn.close()
        listener.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def failure(call: object) -> PantheonError:
    """The typed error ``call`` (an awaitable) ends with."""
    with anyio.fail_after(GUARD_S), pytest.raises(PantheonError) as raised:
        await call  # type: ignore[misc]
    return raised.value


# --- Redis ------------------------------------------------------------------------------


async def test_redis_rate_limiter_gives_up_on_a_silent_server(black_hole: BlackHole) -> None:
    limiter = RedisRateLimiter.from_url(f"redis://127.0.0.1:{black_hole.port}/0",
                                        timeouts=FAST)
    try:
        error = await failure(limiter.hit("k", RateLimit(1, 60)))
    finally:
        await limiter.aclose()
    assert (type(error), error.code) == (Unavailable, "rate_limiter_unavailable")
    # redis-py retries the handshake and the command each on their own: (1 + 1)² tries at
    # most here, where its default budget (10 retries) would have tried up to 121 times
    assert 1 <= black_hole.accepted <= (1 + FAST.retries) ** 2


async def test_redis_slot_leases_give_up_on_a_silent_server(black_hole: BlackHole) -> None:
    leases = RedisSlotLeases.from_url(f"redis://127.0.0.1:{black_hole.port}/0", timeouts=FAST)
    try:
        error = await failure(leases.acquire("t1", [SlotPool("p", 1)], ttl_s=60))
    finally:
        await leases.aclose()
    assert error.code == "turn_limits_unavailable"


async def test_redis_turn_events_bound_every_command(black_hole: BlackHole) -> None:
    events = RedisTurnEvents.from_url(f"redis://127.0.0.1:{black_hole.port}/0", timeouts=FAST)
    event = TurnEvent(EventType.TURN_STARTED, 1, TurnId("t1"), FakeClock().now(), {})
    try:
        published = await failure(events.publish(event))
        cancelled = await failure(events.cancel_requested(TurnId("t1")))

        async def read() -> None:
            async for _ in events.subscribe(TurnId("t1"), after=0, wait_s=0.2):
                pass

        subscribed = await failure(read())
    finally:
        await events.aclose()
    assert {published.code, cancelled.code, subscribed.code} == {"turn_events_unavailable"}


# --- PostgreSQL -------------------------------------------------------------------------


async def test_a_database_that_never_answers_is_503_database_unavailable(
        black_hole: BlackHole) -> None:
    database = Database(f"postgresql://pantheon@127.0.0.1:{black_hole.port}/pantheon",
                        connect_timeout_s=1, pool_timeout_s=1)

    async def use() -> None:
        async with database.unit_of_work():
            pass

    try:
        error = await failure(use())
    finally:
        await database.dispose()
    assert (type(error), error.code) == (Unavailable, "database_unavailable")
    assert black_hole.accepted >= 1


# --- HTTP vendors -----------------------------------------------------------------------


async def test_stripe_gives_up_within_its_total_budget(black_hole: BlackHole) -> None:
    payments = StripePayments("sk_test_x", "whsec_x", api_base=black_hole.url, timeout_s=30,
                              connect_timeout_s=1, max_network_retries=2, total_timeout_s=0.3)
    try:
        error = await failure(payments.portal(customer_id="cus_1", return_url="http://x/"))
    finally:
        await payments.aclose()
    assert error.code == "payments_unavailable"
    assert error.details["reason"] == "timeout"


async def test_openrouter_stats_give_up_on_a_silent_server(black_hole: BlackHole) -> None:
    stats = OpenRouterStats("sk-or", base_url=black_hole.url, timeout_s=0.3)
    try:
        error = await failure(stats.generation("gen-1"))
    finally:
        await stats.aclose()
    assert error.code == "provider_stats_unavailable"


async def test_s3_gives_up_on_a_silent_server(black_hole: BlackHole) -> None:
    store = S3BlobStore("bucket", endpoint_url=black_hole.url, region="us-east-1",
                        access_key_id="k", secret_access_key="s", connect_timeout_s=0.5,
                        read_timeout_s=30, max_attempts=2, call_timeout_s=0.3)
    try:
        error = await failure(store.exists("a/b"))
    finally:
        await store.aclose()
    assert error.code == "storage_unavailable"


async def test_jwks_gives_up_within_its_total_budget(black_hole: BlackHole) -> None:
    keys = JwksKeys(f"{black_hole.url}/jwks.json", timeout_s=30, total_timeout_s=0.3)
    try:
        error = await failure(keys.key_for("kid-1"))
    finally:
        await keys.aclose()
    assert (type(error), error.code) == (Unauthenticated, "invalid_token")
    assert "no answer within 0.3 s" in error.message


@pytest.fixture
def flaky_jwks() -> Iterator[tuple[str, list[int]]]:
    """A JWKS endpoint answering 503 once, then an (empty) key set; records the statuses."""
    statuses: list[int] = []

    async def jwks(request: Request) -> Response:
        status = 503 if not statuses else 200
        statuses.append(status)
        if status == 503:
            return Response("busy", status_code=503)
        return JSONResponse({"keys": []})

    app = Starlette(routes=[Route("/jwks.json", jwks)])
    with serve_in_thread(app, name="flaky-jwks") as base:
        yield f"{base}/jwks.json", statuses


async def test_jwks_retries_a_5xx_within_its_budget(flaky_jwks: tuple[str, list[int]]) -> None:
    url, statuses = flaky_jwks
    keys = JwksKeys(url, max_attempts=2)
    try:
        error = await failure(keys.key_for("kid-1"))
    finally:
        await keys.aclose()
    assert statuses == [503, 200]  # retried once, then answered (an empty key set)
    assert error.code == "invalid_token" and "did not contain any keys" in error.message


async def test_jwks_does_not_retry_a_4xx() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404)

    seen: list[httpx.Request] = []
    keys = JwksKeys("http://jwks.test/jwks.json", max_attempts=3,
                    http=httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    await failure(keys.key_for("kid-1"))
    assert len(seen) == 1


# --- SMTP -------------------------------------------------------------------------------

MAIL = MailMessage(to="ada@example.com", subject="Sign in", text="Sign in: http://x",
                   kind="magic_link", link="http://x")


async def test_smtp_gives_up_on_a_server_that_never_greets(black_hole: BlackHole) -> None:
    mailer = SmtpMailer("127.0.0.1", black_hole.port, sender="p@x", starttls=False,
                        timeout_s=30, connect_timeout_s=30, total_timeout_s=0.3)
    error = await failure(mailer.send(MAIL))
    assert error.code == "mail_unavailable"
    assert "no answer within 0.3 s" in error.message


async def test_smtp_retries_only_a_failed_connection() -> None:
    mailer = SmtpMailer("127.0.0.1", closed_port(), sender="p@x", starttls=False,
                        connect_timeout_s=1, total_timeout_s=10, max_attempts=2)
    error = await failure(mailer.send(MAIL))
    assert error.code == "mail_unavailable"
    assert "ConnectionRefusedError" in error.message
