"""An API process killed mid-turn (NFR-REL-003): the turn ends ``interrupted``, not ``running``.

``pantheon serve`` runs as a subprocess on a free port (the embedded SQLite file, or
PostgreSQL when ``PANTHEON_TEST_POSTGRES_URL`` is set) with OpenRouter at a slow fake. A
turn is sent over HTTP with a personal API token; once its first words are stored, the
server gets SIGKILL — no shutdown, no terminal event. After the turn's heartbeat has gone
stale, a new ``pantheon serve`` on the same data answers, over HTTP: the turn ``failed``
with reason ``interrupted``, its step failed with the words it had streamed, the event
stream ends with ``turn_failed``. The credit hold of the attempt that died is released by
the reservation sweep once its TTL has passed; the wallet is its ledger throughout.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from pydantic import ValidationError

from pantheon_adapters.bootstrap import Container, Settings, build_container
from pantheon_core.actor import Actor
from pantheon_core.domain.turns import TurnStatus
from pantheon_core.domain.wallets import open_holds
from pantheon_core.ids import UserId
from pantheon_core.usecases.deps import Deps
from tests.e2e.conftest import sse_events
from tests.fakes import FakeClock, FakeMailer
from tests.resilience.fault_provider import FaultPlan, FaultyOpenRouter, serving
from tests.resilience.invariants import assert_turn_ended_with_reasons, stored_turn
from tests.resilience.waiting import until
from tests.services import throwaway_postgres

REPO_ROOT = Path(__file__).resolve().parents[2]
HEARTBEAT_S, STALE_AFTER_S = 0.3, 1.0
WORD_PAUSE_S = 1.0  # the fake's pace: the turn is still streaming when the server dies
TEST_DEADLINE_S = 90
Json = dict[str, Any]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None: the embedded SQLite file under the data directory."""
    if request.param == "sqlite":
        yield None
    else:
        with throwaway_postgres() as url:
            yield url


def settings_for(data_dir: Path, database_url: str | None, provider_url: str) -> dict[str, str]:
    """The server's ``PANTHEON_*`` environment (the test's own container uses the same)."""
    env = {"DATA_DIR": str(data_dir), "OPENROUTER_API_KEY": "sk-or-kill",
           "OPENROUTER_BASE_URL": provider_url, "MAIL_BACKEND": "outbox",
           "TURN_HEARTBEAT_S": str(HEARTBEAT_S), "TURN_STALE_AFTER_S": str(STALE_AFTER_S),
           "JOBS_IN_PROCESS": "false", "LOG_LEVEL": "WARNING"}
    if database_url is not None:
        env |= {"DATABASE_URL": database_url, "AUTO_MIGRATE": "true"}
    return env


@asynccontextmanager
async def container_on(env: dict[str, str], **overrides: object) -> AsyncIterator[Container]:
    values: dict[str, object] = {"database_url": None, "redis_url": None, "llm_base_url": None,
                                 "tavily_api_key": None, "supabase_jwt_secret": None,
                                 "supabase_jwks_url": None}
    settings = Settings(**values | {k.lower(): v for k, v in env.items()})  # type: ignore[arg-type]
    container = await build_container(settings, mailer=FakeMailer(), **overrides)  # type: ignore[arg-type]
    try:
        yield container
    finally:
        await container.aclose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def pantheon_serve(env: dict[str, str], log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``pantheon serve`` on a free port with exactly ``env`` as its ``PANTHEON_*``."""
    port = free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith("PANTHEON_")}
    full |= {f"PANTHEON_{k}": v for k, v in env.items()}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pantheon_cli", "serve", "--port", str(port)],
            cwd=REPO_ROOT, env=full, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def exited(process: subprocess.Popen[bytes], log: Path) -> str | None:
    """What the server printed, if it has exited."""
    return None if process.poll() is None else log.read_text(errors="replace")


async def until_ready(client: httpx.AsyncClient, process: subprocess.Popen[bytes],
                      log: Path) -> None:
    async def ready() -> bool:
        output = exited(process, log)
        assert output is None, f"pantheon serve exited:\n{output}"
        try:
            return (await client.get("/readyz")).status_code == 200
        except httpx.TransportError:
            return False

    await until(ready, what="pantheon serve answering /readyz", timeout_s=60, every_s=0.1)


async def snapshot(client: httpx.AsyncClient, turn_id: str) -> Json:
    """``GET /turns/{id}``: ``{"turn": {...}, "timeline": {"steps": [...], ...}}``."""
    response = await client.get(f"/api/v1/turns/{turn_id}")
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def stored_words(client: httpx.AsyncClient, turn_id: str) -> Json | None:
    """The snapshot once the first step has streamed words and every event it shows is
    stored (the live view runs up to a flush interval ahead of the database)."""
    body = await snapshot(client, turn_id)
    steps = body["timeline"]["steps"]
    stored = body["turn"]["last_seq"] >= body["timeline"]["last_seq"]
    return body if steps and steps[0]["content"] and stored else None


async def ended(client: httpx.AsyncClient, turn_id: str) -> Json | None:
    body = await snapshot(client, turn_id)
    return None if body["turn"]["status"] == "running" else body


async def test_a_turn_cut_by_a_killed_api_ends_interrupted_after_a_restart(
        tmp_path: Path, database_url: str | None) -> None:
    log = tmp_path / "serve.log"
    plan = FaultPlan(stream_pause_s=WORD_PAUSE_S)
    with serving(FaultyOpenRouter(plan)) as provider, anyio.fail_after(TEST_DEADLINE_S):
        env = settings_for(tmp_path, database_url, provider.base_url)
        async with container_on(env) as container:
            uc = container.use_cases
            ada = await uc.act_as(Actor.operator(), "ada@example.com")
            room = await uc.create_room(ada, name="Night shift", mode="roundtable")
            await uc.add_agent(ada, room.id, name="Scout", model_alias="qwen")
            token = (await uc.create_api_token(ada, name="kill test")).secret
            before = await uc.get_wallet(ada)
        auth = {"Authorization": f"Bearer {token}"}

        with pantheon_serve(env, log) as (server, url):
            async with httpx.AsyncClient(base_url=url, headers=auth, timeout=10) as client:
                await until_ready(client, server, log)
                sent = await client.post(f"/api/v1/rooms/{room.id}/messages",
                                         json={"content": "[t01] Summarise the night."})
                assert sent.status_code == 202, sent.text
                turn_id = sent.json()["turn"]["id"]
                body = await until(lambda: stored_words(client, turn_id),
                                   what="the first words stored")
                streamed = body["timeline"]["steps"][0]["content"]
            server.send_signal(signal.SIGKILL)
            server.wait()

        async with container_on(env) as container:
            deps: Deps = container.use_cases.get_turn.deps
            turn, events = await stored_turn(deps, turn_id)
            # the kill caught it midway: still running, no terminal event
            assert turn.status is TurnStatus.RUNNING and events[-1].type != "turn_failed"
            assert turn.heartbeat_at is not None
            stale_at = turn.heartbeat_at + timedelta(seconds=STALE_AFTER_S)
        await anyio.sleep(max(0.0, stale_at.timestamp() - time.time()) + 0.2)

        with pantheon_serve(env, log) as (server, url):
            async with httpx.AsyncClient(base_url=url, headers=auth, timeout=10) as client:
                await until_ready(client, server, log)
                # the sweep runs as the server starts
                body = await until(lambda: ended(client, turn_id), what="the sweep")
                stream = await client.get(f"/api/v1/turns/{turn_id}/events",
                                          headers={"Accept": "text/event-stream"})
                timeline = await client.get(f"/api/v1/rooms/{room.id}/timeline")

        final = body["turn"]
        assert (final["status"], final["error"]["code"]) == ("failed", "interrupted"), body
        [step] = body["timeline"]["steps"]
        assert step["status"] == "failed" and step["error"]["code"] == "interrupted", step
        assert step["content"].startswith(streamed), (step["content"], streamed)
        assert stream.status_code == 200, stream.text
        events = sse_events(stream.text)
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert events[-1]["type"] == "turn_failed"
        assert events[-1]["data"]["error"]["code"] == "interrupted"
        assert timeline.status_code == 200, timeline.text
        assert turn_id in timeline.text and "interrupted" in timeline.text

        # The attempt that died holds its credits until the reservation sweep's TTL.
        async with container_on(env) as container:
            deps = container.use_cases.get_turn.deps
            await assert_turn_ended_with_reasons(deps, turn_id)
            held = await holds_of(deps, ada.require_user())
            assert len(held) == 1
            ttl = deps.billing.reservation_ttl_s
        later = FakeClock(turn.heartbeat_at + timedelta(seconds=ttl + 1))
        async with container_on(env, clock=later) as container:
            assert await container.use_cases.sweep_reservations() == 1
            deps = container.use_cases.get_turn.deps
            assert await holds_of(deps, ada.require_user()) == {}
            after = await container.use_cases.get_wallet(ada)
        # nothing was burned for the lost attempt, and nothing stays held
        assert after.wallet.available == before.wallet.available and after.reserved == 0
    assert provider.served and all(s.fault == "ok" for s in provider.served)


async def holds_of(deps: Deps, user_id: str) -> dict[str, object]:
    async with deps.uow() as uow:
        entries = await uow.ledger.all_for_user(UserId(user_id))
    return dict(open_holds(entries))


def test_the_stale_threshold_leaves_room_for_heartbeats(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="at least 3"):
        Settings(data_dir=tmp_path, turn_heartbeat_s=5, turn_stale_after_s=10)
    settings = Settings(data_dir=tmp_path, turn_heartbeat_s=1, turn_stale_after_s=3)
    assert (settings.turn_heartbeat_s, settings.turn_stale_after_s) == (1, 3)
