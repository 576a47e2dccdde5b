"""The whole API on a real socket, with real adapters and data to aim at, for property tests.

:func:`live_api` serves ``create_app`` with uvicorn on 127.0.0.1, on an event loop of its own
in a background thread; its container (embedded SQLite, the offline model, local files,
in-process jobs, Stripe at a fake on 127.0.0.1) is built on that loop first, with a signed-in
**owner** — so the admin operations run for real, not just answer 403 — holding a personal
API token, and one of everything that has an id: a room with two agents, a session, a turn,
a direct session, a parsed file, and a second user the admin operations can act on.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from pantheon_adapters.bootstrap import Container, Settings, build_container
from pantheon_core.actor import Actor
from pantheon_http.app import create_app
from tests.fakes import FakeMailer
from tests.integration.fake_stripe import FakeStripe
from tests.integration.fake_stripe import serving as serving_stripe
from tests.services import copy_migrated

OWNER = "owner@example.com"
MEMBER = "member@example.com"
STRIPE_KEY = "sk_test_resilience"
WEBHOOK_SECRET = "whsec_resilience"


@dataclass
class LiveApi:
    base_url: str
    token: str  # the owner's personal API token
    ids: dict[str, str] = field(default_factory=dict)  # path parameter name -> a real value

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def api_settings(data_dir: Path, stripe_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        data_dir=data_dir, database_url=None, redis_url=None, jobs_in_process=False,
        storage_backend="local", mail_backend="outbox", openrouter_api_key=None,
        llm_base_url=None, tavily_api_key=None, offline_word_delay_ms=0,
        supabase_jwt_secret=None, supabase_jwks_url=None, log_level="WARNING",
        public_url="http://127.0.0.1:8000",
        stripe_secret_key=STRIPE_KEY, stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=stripe_url, stripe_price_starter="price_starter",
        stripe_price_pro="price_pro", stripe_price_power="price_power",
        stripe_topups=[{"id": "pack_500", "credits": "500", "price_id": "price_pack_500"}],
        # every generated request comes from 127.0.0.1: bad link tokens and signatures must
        # not lock the owner's token and the webhook out of the rest of the run
        signin_failures_per_client=1_000_000, webhook_bad_signatures_per_client=1_000_000)


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _seed(container: Container) -> tuple[str, dict[str, str]]:
    """The owner's token, and a real id for each path parameter."""
    uc = container.use_cases
    owner = await uc.act_as(Actor.operator(), OWNER)
    await uc.set_role(Actor.operator(), OWNER, "owner", granted=True)
    await uc.act_as(Actor.operator(), MEMBER)
    token = (await uc.create_api_token(owner, name="schemathesis")).secret
    spare = (await uc.create_api_token(owner, name="spare")).token
    room = await uc.create_room(owner, name="Fuzz", mode="roundtable")
    agent = await uc.add_agent(owner, room.id, name="Ana", model_alias="qwen", files=True)
    await uc.add_agent(owner, room.id, name="Bo", model_alias="deepseek")
    turn = await uc.send_to_room(owner, room.id, "Hello, both of you.")
    session = await uc.create_direct_session(owner, name="Solo", model_alias="llama")
    ticket = await uc.request_upload(owner, room_id=room.id, filename="notes.txt",
                                     size_bytes=11)
    file = await uc.finish_upload(ticket.token, _chunks(b"hello notes"))
    await container.tasks.wait_idle()
    return token, {"room_id": room.id, "agent_id": agent.id, "turn_id": turn.id,
                   "session_id": session.id, "file_id": file.id, "token_id": spare.id,
                   "email": MEMBER}


@contextmanager
def live_api(data_dir: Path) -> Iterator[LiveApi]:
    """Serve the API until the block ends; then stop it and close its container."""
    with serving_stripe(FakeStripe(api_key=STRIPE_KEY)) as stripe:
        settings = api_settings(data_dir, stripe.base_url)
        copy_migrated(settings.effective_database_url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        ready = threading.Event()
        box: dict[str, Any] = {}

        async def main() -> None:
            container = await build_container(settings, mailer=FakeMailer())
            try:
                box["token"], box["ids"] = await _seed(container)
                server = uvicorn.Server(uvicorn.Config(
                    create_app(container=container), lifespan="off", log_config=None,
                    log_level="warning", access_log=False, timeout_graceful_shutdown=1))
                box["server"] = server
                serving = asyncio.create_task(server.serve(sockets=[sock]))
                while True:
                    if server.started or serving.done():
                        break
                    await asyncio.sleep(0.01)
                ready.set()
                await serving
            finally:
                await container.aclose()

        def run() -> None:
            try:
                asyncio.run(main())
            except BaseException as exc:  # handed to the test thread
                box["error"] = exc
            finally:
                ready.set()

        thread = threading.Thread(target=run, name="live-api", daemon=True)
        thread.start()
        try:
            if not ready.wait(60) or "error" in box:
                raise RuntimeError(f"the API did not start: {box.get('error')!r}")
            port = sock.getsockname()[1]
            yield LiveApi(f"http://127.0.0.1:{port}", box["token"], box["ids"])
        finally:
            server = box.get("server")
            if server is not None:
                server.should_exit = True
            thread.join(timeout=30)
            sock.close()
