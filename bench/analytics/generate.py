"""Synthetic usage: users and ``llm_call_events`` bulk-loaded into a fresh PostgreSQL database.

The shape is planned in Python (seeded, so a run is reproducible in shape): every user gets
an *engagement* (how many days they are active) and an *intensity* (calls per active day),
both log-normal and correlated, so a few users make most of the calls; days grow by half over
the range and weekends are quieter. Each (user, day) pair then gets a number of calls, summing
exactly to ``--events`` (largest remainder). That plan (a few hundred thousand rows) is copied
to the server (``COPY … FROM STDIN``), and the events themselves are made there, by one
``INSERT … SELECT … FROM plan, generate_series(1, n)`` per CPU core, on an
``llm_call_events`` without its indexes (built again afterwards, as the migration defines
them): no event row passes through Python, which is what makes ten million rows take about a
minute rather than ten.

Per event, in SQL: the time of day peaks at 14:00 UTC (three quarters of the calls, a bell
of ±4 h; the rest uniform); 60 % of a user's calls go to their favourite model, the rest
follow the global mix; ~3 % fail (``status='error'``, a short or no completion); ~35 %
read cached tokens; prompt and completion sizes are log-normal; credits and provider cost
follow the pricing formula (``pantheon_core.domain.pricing``) with the current pricing
version's prices, read from the migrated database.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from pantheon_adapters.bootstrap import Settings, database_upgrade

MODEL_MIX = (("llama", 0.30), ("qwen", 0.25), ("deepseek", 0.20), ("gpt_oss", 0.17),
             ("premium", 0.08))
FAVOURITE_SHARE = 0.60
FAILED_SHARE = 0.03
CACHED_SHARE = 0.35
ROOM_SHARE = 0.30  # calls made in rooms (the rest in direct chats)


@dataclass(frozen=True)
class Shape:
    events: int
    users: int
    days: int
    end: date  # exclusive: the events fall on the ``days`` days before it
    seed: int = 7

    @property
    def start(self) -> date:
        return self.end - timedelta(days=self.days)


@dataclass(frozen=True)
class User:
    id: str
    email: str
    engagement: float  # share of days the user is active
    intensity: float   # relative calls per active day
    favourite: str
    direct_session_id: str
    room_id: str
    agent_id: str


@dataclass(frozen=True)
class Plan:
    users: list[User]
    rows: list[tuple[int, int, int]]  # (user index, day offset, calls)

    @property
    def events(self) -> int:
        return sum(n for _, _, n in self.rows)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def make_users(count: int, rng: random.Random) -> list[User]:
    aliases = [alias for alias, _ in MODEL_MIX]
    weights = [share for _, share in MODEL_MIX]
    users = []
    for n in range(count):
        z = rng.gauss(0.0, 1.0)
        users.append(User(
            id=_uuid(rng), email=f"user{n:05d}@bench.example",
            engagement=min(0.97, max(0.01, 0.15 * math.exp(1.1 * z))),
            intensity=math.exp(1.2 * z + 0.6 * rng.gauss(0.0, 1.0)),
            favourite=rng.choices(aliases, weights)[0],
            direct_session_id=_uuid(rng), room_id=_uuid(rng), agent_id=_uuid(rng)))
    return users


def day_weight(day: date, offset: int, days: int) -> float:
    growth = 1.0 + 0.5 * offset / max(days - 1, 1)
    return growth * (0.6 if day.weekday() >= 5 else 1.0)


def plan(shape: Shape) -> Plan:
    """Who is active on which day, and with how many calls: exactly ``shape.events`` in all."""
    rng = random.Random(shape.seed)
    users = make_users(shape.users, rng)
    weights = [day_weight(shape.start + timedelta(days=d), d, shape.days)
               for d in range(shape.days)]
    mean_weight = sum(weights) / len(weights)
    pairs: list[tuple[int, int, float]] = []
    # Day by day (the order the rows are inserted in): as in production, where events are
    # appended as they happen, the rows of a day end up next to each other in the table.
    for d, weight in enumerate(weights):
        for u, user in enumerate(users):
            if rng.random() < min(0.99, user.engagement * weight / mean_weight):
                pairs.append((u, d, user.intensity * weight))
    return Plan(users=users, rows=apportion(pairs, shape.events))


def apportion(pairs: Sequence[tuple[int, int, float]], total: int) -> list[tuple[int, int, int]]:
    """Integer calls per pair, proportional to its weight, summing exactly to ``total``
    (largest remainder); pairs left with none are dropped."""
    if not pairs or total <= 0:
        return []
    scale = total / sum(w for _, _, w in pairs)
    floors = [(u, d, math.floor(w * scale), w * scale - math.floor(w * scale))
              for u, d, w in pairs]
    missing = total - sum(n for _, _, n, _ in floors)
    order = sorted(range(len(floors)), key=lambda i: -floors[i][3])
    bonus = set(order[:missing])
    rows = [(u, d, n + (1 if i in bonus else 0)) for i, (u, d, n, _) in enumerate(floors)]
    return [row for row in rows if row[2] > 0]


def split(rows: Sequence[tuple[int, int, int]], parts: int) -> list[int]:
    """A part number per row, balancing calls across ``parts`` loaders day by day (greedy,
    largest first within a day), so that the loaders go through the days together."""
    load = [0] * parts
    assigned = [0] * len(rows)
    by_day: dict[int, list[int]] = {}
    for i, (_, d, _) in enumerate(rows):
        by_day.setdefault(d, []).append(i)
    for d in sorted(by_day):
        for i in sorted(by_day[d], key=lambda i: -rows[i][2]):
            part = load.index(min(load))
            assigned[i] = part
            load[part] += rows[i][2]
    return assigned


# --- the database ------------------------------------------------------------------------

def server_url(database: str, host: str = "127.0.0.1", port: int = 5432,
               user: str = "postgres") -> str:
    return f"postgresql://{user}@{host}:{port}/{database}"


def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


async def recreate_database(admin_url: str, name: str) -> None:
    async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as conn:
        await conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                           .format(sql.Identifier(name)))
        await conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


async def migrate(url: str, data_dir: Any) -> None:
    await database_upgrade(Settings(database_url=sqlalchemy_url(url), data_dir=data_dir))


LOADER_SETTINGS = (
    "SET synchronous_commit = off",
    "SET maintenance_work_mem = '1GB'",
    "SET max_parallel_maintenance_workers = 1",
    "SET work_mem = '64MB'",
)

PLAN_TABLE = """
CREATE UNLOGGED TABLE bench_plan (
    part smallint NOT NULL, user_id text NOT NULL, favourite text NOT NULL,
    direct_session_id text NOT NULL, room_id text NOT NULL, agent_id text NOT NULL,
    t0 timestamptz NOT NULL, seasonal boolean NOT NULL, span_s double precision NOT NULL,
    n integer NOT NULL)
"""

# The global mix as a CASE over one uniform draw.
_MIX = "CASE " + " ".join(
    f"WHEN r_mix < {sum(s for _, s in MODEL_MIX[:i + 1]):.4f} THEN '{alias}'"
    for i, (alias, _) in enumerate(MODEL_MIX[:-1])) + f" ELSE '{MODEL_MIX[-1][0]}' END"

# Inner query: the random draws of each event (OFFSET 0 keeps it from being flattened, so
# each draw is made once and reused by the outer query). z1, z2: ~N(0,1) (Irwin-Hall).
INSERT_EVENTS = f"""
INSERT INTO llm_call_events (
    id, user_id, room_id, direct_session_id, turn_id, step_id, agent_id, provider, model,
    model_alias, purpose, attempt, prompt_tokens, completion_tokens, cached_tokens,
    cached_tokens_reported, total_tokens, provider_cost_usd, credits_burned, latency_ms,
    status, error_code, pricing_version, request_id, generation_id, created_at)
SELECT e.id, e.user_id,
       CASE WHEN e.in_room THEN e.room_id END,
       CASE WHEN e.in_room THEN NULL ELSE e.direct_session_id END,
       e.turn_id, e.step_id, CASE WHEN e.in_room THEN e.agent_id END,
       'openrouter', m.provider_model_id, m.alias,
       CASE WHEN NOT e.in_room THEN 'direct'
            WHEN e.r_purpose < 0.6 THEN 'worker'
            WHEN e.r_purpose < 0.8 THEN 'plan' ELSE 'synthesis' END,
       1, e.prompt, e.completion, e.cached, e.cached > 0 OR e.r_reported < 0.5,
       e.prompt + e.completion,
       round(((e.prompt - e.cached) * m.input_usd_per_mtok + e.cached * m.cached_usd_per_mtok
              + e.completion * m.output_usd_per_mtok) / 1000000, 8),
       round(((e.prompt - e.cached) * v.fresh_weight + e.cached * v.cached_weight
              + e.completion * v.output_weight) / v.oe_per_credit
             * greatest(m.credit_multiplier, v.multiplier_floor), 6),
       e.latency_ms,
       CASE WHEN e.failed THEN 'error' ELSE 'ok' END,
       CASE WHEN e.failed THEN 'provider_error' END,
       v.version, 'req_' || replace(e.step_id, '-', ''),
       CASE WHEN e.failed THEN NULL ELSE 'gen-' || replace(e.id, '-', '') END,
       e.created_at
FROM (
    SELECT d.id, p.user_id, p.room_id, p.direct_session_id,
           p.agent_id,
           -- Turn and step ids: the event's id with its hex digits permuted (as random, at a
           -- third of the cost of a fresh UUID each; they are not read by analytics).
           translate(d.id, '0123456789abcdef', '3c8e1f05ad6b7942') AS turn_id,
           translate(d.id, '0123456789abcdef', 'b5907e2fc4d38a16') AS step_id,
           random() < {ROOM_SHARE} AS in_room, random() AS r_purpose,
           random() AS r_reported, d.failed, d.prompt,
           CASE WHEN d.failed THEN (d.completion * 0.2 * random())::int
                ELSE d.completion END AS completion,
           CASE WHEN random() < {CACHED_SHARE}
                THEN (d.prompt * (0.3 + 0.6 * random()))::int ELSE 0 END AS cached,
           (300 + 40000 * random() * random() * random())::int AS latency_ms,
           CASE WHEN random() < {FAVOURITE_SHARE} THEN p.favourite ELSE {_MIX} END AS alias,
           p.t0 + make_interval(secs => CASE
               WHEN NOT p.seasonal THEN random() * p.span_s
               WHEN random() < 0.75 THEN d.bell_s - 86400 * floor(d.bell_s / 86400)
               ELSE random() * 86400 END) AS created_at
    FROM bench_plan p
    CROSS JOIN LATERAL generate_series(1, p.n) AS g(i)
    CROSS JOIN LATERAL (
        SELECT gen_random_uuid()::text AS id, random() < {FAILED_SHARE} AS failed,
               random() AS r_mix,
               (150 + exp(6.9 + 0.9 * (random() + random() + random() + random() - 2)
                                  * 1.732))::int AS prompt,
               (20 + exp(5.4 + 0.8 * (random() + random() + random() + random() - 2)
                                 * 1.732))::int AS completion,
               (14 + 8 * (random() + random() + random() - 1.5)) * 3600 AS bell_s
        WHERE g.i > 0) AS d
    WHERE p.part = %(part)s
    OFFSET 0
) AS e
JOIN model_pricing m ON m.alias = e.alias
JOIN pricing_versions v ON v.version = m.pricing_version AND v.is_current
"""  # noqa: S608 (constants only)


@dataclass
class LoadTimings:
    plan_s: float = 0.0
    copy_plan_s: float = 0.0
    insert_s: float = 0.0
    index_s: float = 0.0
    vacuum_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.plan_s + self.copy_plan_s + self.insert_s + self.index_s + self.vacuum_s


async def connect(url: str) -> psycopg.AsyncConnection[Any]:
    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    for statement in LOADER_SETTINGS:
        await conn.execute(statement)
    return conn


async def _copy_users(conn: psycopg.AsyncConnection[Any], users: Sequence[User],
                      created_at: datetime) -> None:
    async with conn.cursor() as cur, cur.copy(
            "COPY users (id, email, status, display_name, created_at) FROM STDIN") as copy:
        for n, user in enumerate(users):
            await copy.write_row((user.id, user.email, "active", f"Bench user {n}", created_at))


async def _copy_plan(conn: psycopg.AsyncConnection[Any], rows: Sequence[tuple[Any, ...]]) -> None:
    await conn.execute("DROP TABLE IF EXISTS bench_plan")
    await conn.execute(PLAN_TABLE)
    async with conn.cursor() as cur, cur.copy(
            "COPY bench_plan (part, user_id, favourite, direct_session_id, room_id, agent_id, "
            "t0, seasonal, span_s, n) FROM STDIN") as copy:
        for row in rows:
            await copy.write_row(row)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


async def _secondary_indexes(conn: psycopg.AsyncConnection[Any]) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of every index of llm_call_events but its key."""
    cur = await conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'llm_call_events' "
        "AND indexname <> 'pk_llm_call_events' ORDER BY indexname")
    return [(name, definition) for name, definition in await cur.fetchall()]


async def _parallel(url: str, jobs: Sequence[Sequence[tuple[str, dict[str, Any] | None]]]) -> None:
    """Run each job (a list of statements) on a connection of its own, all at once."""
    async def run(statements: Sequence[tuple[str, dict[str, Any] | None]]) -> None:
        conn = await connect(url)
        try:
            for statement, params in statements:
                await conn.execute(statement, params)  # type: ignore[arg-type]
        finally:
            await conn.close()

    await asyncio.gather(*(run(job) for job in jobs if job))


async def load(url: str, shape: Shape, *, loaders: int = 2,
               log: Any = print) -> tuple[Plan, LoadTimings]:
    """Users and ``shape.events`` events into a freshly migrated database at ``url``."""
    timings = LoadTimings()
    started = time.perf_counter()
    the_plan = plan(shape)
    parts = split(the_plan.rows, loaders)
    timings.plan_s = time.perf_counter() - started
    log(f"  plan: {len(the_plan.users)} users, {len(the_plan.rows)} active user-days, "
        f"{the_plan.events} events ({timings.plan_s:.1f} s)")

    conn = await connect(url)
    try:
        started = time.perf_counter()
        await _copy_users(conn, the_plan.users, _midnight(shape.start) - timedelta(days=30))
        rows = []
        for (u, d, n), part in zip(the_plan.rows, parts, strict=True):
            user = the_plan.users[u]
            rows.append((part, user.id, user.favourite, user.direct_session_id, user.room_id,
                         user.agent_id, _midnight(shape.start + timedelta(days=d)), True, 0.0,
                         n))
        await _copy_plan(conn, rows)
        timings.copy_plan_s = time.perf_counter() - started

        indexes = await _secondary_indexes(conn)
        # no autovacuum of the half-loaded table (it would take one of the two cores)
        await conn.execute("ALTER TABLE llm_call_events SET (autovacuum_enabled = false)")
        await conn.execute("ALTER TABLE llm_call_events DROP CONSTRAINT pk_llm_call_events")
        for name, _ in indexes:
            await conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    finally:
        await conn.close()

    started = time.perf_counter()
    await _parallel(url, [[(INSERT_EVENTS, {"part": part})] for part in range(loaders)])
    timings.insert_s = time.perf_counter() - started
    log(f"  insert: {the_plan.events} events in {timings.insert_s:.1f} s "
        f"({the_plan.events / max(timings.insert_s, 1e-9):,.0f} events/s, {loaders} loaders)")

    started = time.perf_counter()
    statements: list[tuple[str, dict[str, Any] | None]] = [
        ("ALTER TABLE llm_call_events ADD CONSTRAINT pk_llm_call_events PRIMARY KEY (id)", None),
        *((definition, None) for _, definition in indexes)]
    jobs: list[list[tuple[str, dict[str, Any] | None]]] = [[] for _ in range(loaders)]
    for i, statement in enumerate(statements):
        jobs[i % loaders].append(statement)
    await _parallel(url, jobs)
    timings.index_s = time.perf_counter() - started
    log(f"  indexes: {len(statements)} rebuilt in {timings.index_s:.1f} s")

    started = time.perf_counter()
    await _parallel(url, [[("VACUUM (ANALYZE) llm_call_events", None),
                           ("ALTER TABLE llm_call_events RESET (autovacuum_enabled)", None)],
                          [("VACUUM (ANALYZE) users", None),
                           ("DROP TABLE bench_plan", None)]])
    timings.vacuum_s = time.perf_counter() - started
    log(f"  vacuum + analyze: {timings.vacuum_s:.1f} s")
    return the_plan, timings


async def insert_recent(url: str, the_plan: Plan, *, events: int, until: datetime,
                        span_s: float, seed: int = 11) -> float:
    """``events`` new events in ``[until - span_s, until)``, spread over the users as their
    intensity says, into the indexed table (as the live system writes them). Returns seconds."""
    rng = random.Random(seed)
    users = the_plan.users
    chosen = [(u, 0, user.intensity) for u, user in enumerate(users)
              if rng.random() < min(0.99, user.engagement * 1.5)]
    rows = apportion(chosen, events)
    start = until - timedelta(seconds=span_s)
    conn = await connect(url)
    try:
        await _copy_plan(conn, [(0, users[u].id, users[u].favourite,
                                 users[u].direct_session_id, users[u].room_id,
                                 users[u].agent_id, start, False, span_s, n)
                                for u, _, n in rows])
        began = time.perf_counter()
        await conn.execute("SET synchronous_commit = on")
        await conn.execute(INSERT_EVENTS, {"part": 0})
        took = time.perf_counter() - began
        await conn.execute("DROP TABLE bench_plan")
    finally:
        await conn.close()
    return took


async def count_events(url: str) -> int:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute("SELECT count(*) FROM llm_call_events")
        row = await cur.fetchone()
        return int(row[0]) if row else 0
