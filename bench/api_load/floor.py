"""The floor to compare Pantheon with: the same five reads as one SQL statement each.

A bare ASGI app (no framework, no middleware) on the same uvicorn (same loop, HTTP parser
and worker count as ``pantheon serve``), reading the same database through the same
driver stack (SQLAlchemy Core async + asyncpg, a pool of the same size). Each request
hashes the bearer token as Pantheon does (SHA-256) and answers with **one** statement that
also does the authentication (a join on ``api_tokens``), serialised with ``json.dumps``.
What Pantheon spends above this — its middleware, FastAPI's validation, the separate
authentication, its units of work and repositories, pydantic output models — is its
overhead over the floor of the stack.

    uvicorn bench.api_load.floor:create_app --factory   (BENCH_FLOOR_DATABASE_URL=postgresql+asyncpg://…)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Every statement authenticates too: a join on the token's hash (:h).
ROOMS = text(
    "SELECT r.id, r.name, r.description, r.current_mode, r.pending_mode, r.created_at, "
    "r.updated_at FROM rooms r JOIN api_tokens t ON t.user_id = r.owner_id "
    "AND t.token_hash = :h AND t.revoked_at IS NULL "
    "WHERE r.deleted_at IS NULL ORDER BY r.created_at, r.id")

ROOM = text(
    "SELECT r.id, r.name, r.description, r.current_mode, r.pending_mode, r.created_at, "
    "a.id, a.name, a.model_alias, a.role_prompt, a.tool_web_search, a.tool_files, a.position "
    "FROM rooms r JOIN api_tokens t ON t.user_id = r.owner_id "
    "AND t.token_hash = :h AND t.revoked_at IS NULL "
    "LEFT JOIN room_agents a ON a.room_id = r.id AND a.deleted_at IS NULL "
    "WHERE r.id = :room AND r.deleted_at IS NULL ORDER BY a.position")

TIMELINE = text(
    "WITH s AS (SELECT rs.id FROM rooms r JOIN api_tokens t ON t.user_id = r.owner_id "
    "AND t.token_hash = :h AND t.revoked_at IS NULL "
    "JOIN room_sessions rs ON rs.room_id = r.id WHERE r.id = :room AND r.deleted_at IS NULL "
    "ORDER BY rs.created_at DESC LIMIT 1), "
    "page AS (SELECT tu.* FROM turns tu JOIN s ON tu.session_id = s.id "
    "ORDER BY tu.created_at DESC LIMIT 21) "
    "SELECT page.id, page.message, page.status, page.mode, page.created_at, st.id, "
    "st.agent_name, st.model_alias, st.status, st.content FROM page "
    "LEFT JOIN turn_steps st ON st.turn_id = page.id ORDER BY page.created_at, st.index")

WALLET = text(
    "SELECT w.plan_balance, w.topup_balance, w.plan_id, w.period_end, w.subscription_status, "
    "w.monthly_cap, w.allowed_models, (SELECT coalesce(sum(c.amount), 0) "
    "FROM credit_transactions c WHERE c.user_id = w.user_id AND c.kind = 'burn' "
    "AND c.created_at >= :month) FROM wallets w JOIN api_tokens t ON t.user_id = w.user_id "
    "AND t.token_hash = :h AND t.revoked_at IS NULL")

USAGE = text(
    "SELECT e.model_alias, count(*), sum(e.prompt_tokens), sum(e.completion_tokens), "
    "sum(e.cached_tokens), sum(e.credits_burned), sum(e.provider_cost_usd) "
    "FROM llm_call_events e JOIN api_tokens t ON t.user_id = e.user_id "
    "AND t.token_hash = :h AND t.revoked_at IS NULL "
    "WHERE e.created_at >= :month AND e.created_at < :now "
    "GROUP BY e.model_alias ORDER BY e.model_alias")

ROOM_PATH = re.compile(r"^/api/v1/rooms/([^/]+)(/timeline)?$")


def _month_start() -> datetime:
    return datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _rows(result: Any) -> list[list[Any]]:
    return [list(row) for row in result]


class Floor:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def _read(self, statement: Any, **params: Any) -> list[list[Any]]:
        async with self.engine.connect() as conn:
            return _rows(await conn.execute(statement, params))

    async def answer(self, path: str, token_hash: str) -> tuple[int, Any]:
        if path == "/api/v1/rooms":
            return 200, {"rooms": await self._read(ROOMS, h=token_hash)}
        if path == "/api/v1/billing/wallet":
            rows = await self._read(WALLET, h=token_hash, month=_month_start())
            return (200, {"wallet": rows[0]}) if rows else (401, {"error": "invalid_token"})
        if path == "/api/v1/billing/usage":
            return 200, {"rows": await self._read(USAGE, h=token_hash, month=_month_start(),
                                                  now=datetime.now(UTC))}
        match = ROOM_PATH.match(path)
        if match and match.group(2):
            return 200, {"turns": await self._read(TIMELINE, h=token_hash, room=match.group(1))}
        if match:
            rows = await self._read(ROOM, h=token_hash, room=match.group(1))
            return (200, {"room": rows}) if rows else (404, {"error": "not_found"})
        return 404, {"error": "not_found"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.engine.dispose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        token = ""
        for name, value in scope["headers"]:
            if name == b"authorization" and value.startswith(b"Bearer "):
                token = value[7:].decode()
        if not token:
            status, body = 401, {"error": "not_authenticated"}
        else:
            status, body = await self.answer(scope["path"],
                                             hashlib.sha256(token.encode()).hexdigest())
        payload = json.dumps(body, default=str).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


def create_app() -> Floor:
    """The pool is sized like Pantheon's (the bench passes its settings' values)."""
    pool: dict[str, Any] = {}
    if os.environ.get("BENCH_FLOOR_POOL_SIZE"):
        pool["pool_size"] = int(os.environ["BENCH_FLOOR_POOL_SIZE"])
    if os.environ.get("BENCH_FLOOR_MAX_OVERFLOW"):
        pool["max_overflow"] = int(os.environ["BENCH_FLOOR_MAX_OVERFLOW"])
    return Floor(create_async_engine(os.environ["BENCH_FLOOR_DATABASE_URL"], **pool))
