"""The peer: the same answers as the analytics use cases, computed straight from the raw
``llm_call_events`` by hand-written SQL (one statement per answer, ``GROUP BY`` over the
range, ``COUNT(DISTINCT user_id)`` for active users), over one psycopg connection.

What a competent engineer would write without rollups: ranges on the indexed ``created_at``,
UTC days as ``(created_at AT TIME ZONE 'UTC')::date``, failed calls as ``status <> 'ok'``
(as the rollups count them), ties broken by code point (``COLLATE "C"``), as the use cases
sort; e-mails joined in. Results are normalised (see :mod:`bench.analytics.answers`) and
compared with the use cases' answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import psycopg

from bench.analytics import answers
from bench.analytics.answers import Answer, Range, at_midnight

SUMS = """count(*) AS calls, count(*) FILTER (WHERE status <> 'ok') AS failed_calls,
       sum(prompt_tokens) AS prompt_tokens, sum(cached_tokens) AS cached_tokens,
       sum(completion_tokens) AS completion_tokens, sum(provider_cost_usd) AS provider_cost_usd,
       sum(credits_burned) AS credits"""
IN_RANGE = "created_at >= %(start)s AND created_at < %(end)s"
SUM_NAMES = ("calls", "failed_calls", "prompt_tokens", "cached_tokens", "completion_tokens",
             "provider_cost_usd", "credits")

USAGE_BY_USER_MODEL = f"""
SELECT t.user_id, t.model_alias, {", ".join(f"t.{n}" for n in SUM_NAMES)}, u.email
FROM (SELECT user_id, model_alias, {SUMS}
      FROM llm_call_events WHERE {IN_RANGE}
      GROUP BY user_id, model_alias) AS t
LEFT JOIN users u ON u.id = t.user_id
ORDER BY t.credits DESC, t.user_id COLLATE "C", t.model_alias COLLATE "C"
"""  # noqa: S608 (constants only)

USAGE_PAGE = USAGE_BY_USER_MODEL + "LIMIT %(limit)s\n"

USAGE_BY_MODEL = f"""
SELECT model_alias, {SUMS}
FROM llm_call_events WHERE {IN_RANGE}
GROUP BY model_alias
ORDER BY credits DESC, model_alias COLLATE "C"
"""  # noqa: S608

COSTS = f"""
SELECT (created_at AT TIME ZONE 'UTC')::date AS day, sum(provider_cost_usd) AS cost,
       sum(credits_burned) AS credits
FROM llm_call_events WHERE {IN_RANGE}
GROUP BY 1 ORDER BY 1
"""  # noqa: S608

# One scan: the distinct (day, user) pairs of the range (and of the 30 days that MAU needs),
# then every count from them.
ACTIVE = """
WITH du AS MATERIALIZED (
    SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date AS day, user_id
    FROM llm_call_events WHERE created_at >= %(scan_from)s AND created_at < %(end)s)
SELECT 'day' AS bucket, day, count(*) AS users FROM du WHERE day >= %(first)s GROUP BY day
UNION ALL
SELECT 'week', date_trunc('week', day)::date, count(DISTINCT user_id)
FROM du WHERE day >= %(first)s GROUP BY 2
UNION ALL
SELECT 'month', date_trunc('month', day)::date, count(DISTINCT user_id)
FROM du WHERE day >= %(first)s GROUP BY 2
UNION ALL
SELECT 'dau', NULL, count(DISTINCT user_id) FROM du WHERE day = %(last)s
UNION ALL
SELECT 'wau', NULL, count(DISTINCT user_id) FROM du WHERE day > %(last)s - 7
UNION ALL
SELECT 'mau', NULL, count(DISTINCT user_id) FROM du WHERE day > %(last)s - 30
"""

TOP_USERS_BY_COST = f"""
SELECT t.user_id, {", ".join(f"t.{n}" for n in SUM_NAMES)}, u.email
FROM (SELECT user_id, {SUMS}
      FROM llm_call_events WHERE {IN_RANGE}
      GROUP BY user_id
      ORDER BY sum(credits_burned) DESC, user_id COLLATE "C"
      LIMIT %(limit)s) AS t
LEFT JOIN users u ON u.id = t.user_id
ORDER BY t.credits DESC, t.user_id COLLATE "C"
"""  # noqa: S608

TOP_MODELS_BY_TOKENS = f"""
SELECT model_alias, {SUMS}
FROM llm_call_events WHERE {IN_RANGE}
GROUP BY model_alias
ORDER BY sum(prompt_tokens) + sum(completion_tokens) DESC, model_alias COLLATE "C"
LIMIT %(limit)s
"""  # noqa: S608

TOP_LIMIT = 10

Conn = psycopg.AsyncConnection[Any]
PeerCall = Callable[[Conn, Range], Awaitable[Answer]]


async def _rows(conn: Conn, statement: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    cur = await conn.execute(statement, params)
    return list(await cur.fetchall())


def _range(r: Range) -> dict[str, Any]:
    return {"start": at_midnight(r.start), "end": at_midnight(r.end)}


async def usage_by_user_model(conn: Conn, r: Range) -> Answer:
    rows = await _rows(conn, USAGE_BY_USER_MODEL, _range(r))
    return answers.usage([answers.Row(user=row[0], model=row[1], sums=row[2:9], email=row[9])
                          for row in rows])


async def usage_page(conn: Conn, r: Range) -> Answer:
    rows = await _rows(conn, USAGE_PAGE, {**_range(r), "limit": answers.PAGE})
    return answers.usage([answers.Row(user=row[0], model=row[1], sums=row[2:9], email=row[9])
                          for row in rows])


async def usage_by_model(conn: Conn, r: Range) -> Answer:
    rows = await _rows(conn, USAGE_BY_MODEL, _range(r))
    return answers.usage([answers.Row(model=row[0], sums=row[1:8]) for row in rows])


async def costs(conn: Conn, r: Range) -> Answer:
    rows = await _rows(conn, COSTS, _range(r))
    return answers.costs([(row[0], row[1], row[2]) for row in rows])


async def active_users(conn: Conn, r: Range) -> Answer:
    last = r.end - timedelta(days=1)
    scan_from = min(r.start, r.end - timedelta(days=30))
    rows = await _rows(conn, ACTIVE, {"scan_from": at_midnight(scan_from),
                                      "end": at_midnight(r.end), "first": r.start,
                                      "last": last})
    series: dict[str, list[tuple[date, int]]] = {"day": [], "week": [], "month": []}
    counts: dict[str, int] = {}
    for bucket, day, users in rows:
        if bucket in series:
            series[bucket].append((day, int(users)))
        else:
            counts[bucket] = int(users)
    return answers.active(day=last, dau=counts.get("dau", 0), wau=counts.get("wau", 0),
                          mau=counts.get("mau", 0), daily=sorted(series["day"]),
                          weekly=sorted(series["week"]), monthly=sorted(series["month"]))


async def top_users_by_cost(conn: Conn, r: Range) -> Answer:
    rows = await _rows(conn, TOP_USERS_BY_COST, {**_range(r), "limit": TOP_LIMIT})
    return answers.top([answers.Row(user=row[0], sums=row[1:8], email=row[8]) for row in rows])


async def top_models_by_tokens(conn: Conn, r: Range) -> Answer:
    rows = await _rows(conn, TOP_MODELS_BY_TOKENS, {**_range(r), "limit": TOP_LIMIT})
    return answers.top([answers.Row(model=row[0], sums=row[1:8]) for row in rows])


CALLS: dict[str, PeerCall] = {
    "usage_by_user_model": usage_by_user_model,
    "usage_page": usage_page,
    "usage_by_model": usage_by_model,
    "costs": costs,
    "active_users": active_users,
    "top_users_by_cost": top_users_by_cost,
    "top_models_by_tokens": top_models_by_tokens,
}
