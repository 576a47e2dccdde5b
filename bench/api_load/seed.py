"""The benchmark's data: a throwaway PostgreSQL database, migrated and filled through the
product's own use cases (no hand-written rows), before the server starts.

Per user (one per concurrent client at the highest level): a bearer API token, a
``roundtable`` room with ``agents`` agents, a wallet (welcome credits) plus one top-up
grant, and ``history_turns`` finished turns in the room — run by the real engine on the
offline model without word delay —, which give the timeline its messages (the user's
message and one per agent) and the wallet its usage events and ledger entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pantheon_adapters.bootstrap import Settings, build_container, database_upgrade
from pantheon_core.actor import Actor

AGENTS = (("Ada", "qwen", "You are a careful analyst."),
          ("Basil", "llama", "You are a concise reviewer."),
          ("Cleo", "deepseek", "You are a curious generalist."),
          ("Dion", "gpt_oss", "You are a pragmatic engineer."))
HISTORY_MESSAGE = "Seed turn {n}: what should we look at first in the quarterly numbers?"


@dataclass(frozen=True)
class SeededUser:
    email: str
    token: str
    room_id: str


@dataclass(frozen=True)
class Seeded:
    users: list[SeededUser]
    counts: dict[str, int]
    seconds: float


def server_url(database: str, host: str, port: int, user: str) -> str:
    return f"postgresql://{user}@{host}:{port}/{database}"


def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


async def recreate_database(admin_url: str, name: str) -> None:
    async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as conn:
        await conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                           .format(sql.Identifier(name)))
        await conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


async def drop_database(admin_url: str, name: str) -> None:
    with contextlib.suppress(psycopg.Error):
        async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as conn:
            await conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                               .format(sql.Identifier(name)))


async def migrate(url: str, data_dir: Path) -> None:
    await database_upgrade(Settings(database_url=sqlalchemy_url(url), data_dir=data_dir))


async def seed(url: str, data_dir: Path, *, users: int, agents: int, history_turns: int,
               parallel: int = 8, log: Callable[[str], None] = print) -> Seeded:
    """Create ``users`` users with everything the load needs; return their tokens and rooms."""
    started = time.perf_counter()
    settings = Settings(database_url=sqlalchemy_url(url), data_dir=data_dir,
                        auto_migrate=False, offline_word_delay_ms=0, log_level="WARNING")
    container = await build_container(settings)
    uc = container.use_cases
    operator = Actor.operator()
    gate = asyncio.Semaphore(parallel)
    made: list[SeededUser | None] = [None] * users

    async def one(n: int) -> None:
        async with gate:
            email = f"load{n:04d}@bench.example"
            actor = await uc.act_as(operator, email)
            issued = await uc.create_api_token(actor, name="api-load bench")
            room = await uc.create_room(actor, name=f"Bench room {n}",
                                        description="api_load benchmark", mode="roundtable")
            for name, alias, prompt in AGENTS[:agents]:
                await uc.add_agent(actor, room.id, name=name, model_alias=alias,
                                   role_prompt=prompt)
            await uc.get_wallet(actor)  # opens it: the welcome grant
            await uc.grant_credits(operator, email, Decimal(500), reason="api_load bench",
                                   key=f"bench-api-load-{n}")
            for t in range(history_turns):
                await uc.send_to_room(actor, room.id, HISTORY_MESSAGE.format(n=t))
                await container.tasks.wait_idle()
            made[n] = SeededUser(email=email, token=issued.secret, room_id=str(room.id))

    try:
        tasks = [asyncio.create_task(one(n)) for n in range(users)]
        for done, finished in enumerate(asyncio.as_completed(tasks), start=1):
            await finished
            if done % 100 == 0 or done == users:
                log(f"seeded {done}/{users} users ({time.perf_counter() - started:.0f} s)")
        await container.tasks.wait_idle()
    finally:
        await container.aclose()
    counts = await table_counts(url)
    return Seeded([u for u in made if u is not None], counts, time.perf_counter() - started)


COUNTED = ("users", "api_tokens", "rooms", "room_agents", "turns", "turn_steps",
           "turn_events", "llm_call_events", "credit_transactions", "wallets")


async def table_counts(url: str) -> dict[str, int]:
    out: dict[str, int] = {}
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for table in COUNTED:
            cur = await conn.execute(sql.SQL("SELECT count(*) FROM {}")
                                     .format(sql.Identifier(table)))
            row: Any = await cur.fetchone()
            out[table] = int(row[0])
        await conn.execute("VACUUM (ANALYZE)")
    return out
