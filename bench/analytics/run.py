"""``make bench-analytics``: admin analytics from rollups vs the same answers from raw events.

Creates the PostgreSQL database ``pantheon_bench_analytics`` (dropped first if present),
migrates it, bulk-loads ``--events`` usage events of ``--users`` users over the ``--days``
days before today (:mod:`bench.analytics.generate`), then

1. times the rollup job (``rollup_usage``) over everything (the first run), then incremental
   runs, each adding the ``--incremental-events`` new events of "today" just inserted (one
   minute at 1 000/s); then inserts ``--tail-events`` more that stay *not* rolled up — the
   most a reader meets in steady state: (rollup lag 30 s + interval 60 s) at 1 000/s;
2. times every analytics use case through the real container, as ``Actor.operator()``, on
   two ranges (the last 7 and 90 days, each with today), p50/p95 over ``--reps`` calls after
   a warm-up;
3. times the peer — the same answers by hand-written SQL on the raw events
   (:mod:`bench.analytics.peer`) — alternating call by call with the use case, and checks
   that both give the same answers, row by row;
4. runs ``EXPLAIN (ANALYZE, BUFFERS)`` on the slowest statement of every call that misses
   the goal.

Results: ``bench/results/analytics-<date>.json`` and ``.md``, and a marked section of
``bench/README.md``. The exit status is non-zero only if something fails or the two sides
disagree; goals are reported, not asserted.

    python -m bench.analytics.run [--events 10000000] [--users 5000] [--days 90]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.analytics import answers, cases, generate, peer, quiet, report
from bench.analytics.answers import Answer, Range
from bench.stream_overhead import machine, stats
from pantheon_adapters.bootstrap import Settings, build_container
from pantheon_core.actor import Actor

REPO = Path(__file__).resolve().parents[2]
DATABASE = "pantheon_bench_analytics"
WARMUP_S = 3.0


class FrozenClock:
    """The container's clock: fixed at the start of the run (moved on explicitly), so that
    "today" cannot change under the benchmark."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


def start_time() -> datetime:
    """Now, unless so close to midnight (UTC) that the run's minutes of "today" would cross
    it: then a little earlier or later the same day."""
    now = datetime.now(UTC).replace(microsecond=0)
    midnight = now.replace(hour=0, minute=0, second=0)
    if now - midnight < timedelta(minutes=5):
        return midnight + timedelta(minutes=5)
    if now > midnight + timedelta(hours=23, minutes=40):
        return midnight + timedelta(hours=23, minutes=40)
    return now


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics.run",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000,
                        help="usage events to generate (default: %(default)s)")
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--loaders", type=int, default=2,
                        help="concurrent INSERT … SELECT sessions (default: %(default)s)")
    parser.add_argument("--incremental-events", type=int, default=60_000)
    parser.add_argument("--incremental-rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=1000.0,
                        help="events/s the incremental rollup must keep up with")
    parser.add_argument("--tail-events", type=int, default=90_000,
                        help="events left not rolled up while analytics are timed "
                             "(default: %(default)s, 90 s at 1 000/s)")
    parser.add_argument("--reps", type=int, default=30, help="measured calls per use case "
                        "and range (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--budget-s", type=float, default=30.0,
                        help="time per use case and range and side: fewer calls (at least "
                             "--min-reps) when the warm-up says --reps would take longer")
    parser.add_argument("--min-reps", type=int, default=5)
    parser.add_argument("--goal-ms", type=float, default=200.0)
    parser.add_argument("--ranges", default="7,90", help="last N days (and today)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--drop-after", action="store_true",
                        help="drop the database at the end (default: keep it to inspect)")
    parser.add_argument("--quiet-wait-s", type=float, default=20.0)
    parser.add_argument("--results-dir", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--no-readme", action="store_true",
                        help="do not rewrite the results section of bench/README.md")
    parser.add_argument("--no-explain", action="store_true")
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(f"bench-analytics: {message}", flush=True)


@dataclass
class Side:
    times_s: list[float] = field(default_factory=list)
    answer: Answer | None = None
    reps: int = 0
    warmup_s: list[float] = field(default_factory=list)


async def _timed(call: Any) -> tuple[float, Answer]:
    began = time.perf_counter()
    result = await call()
    return time.perf_counter() - began, result


def _reps(args: argparse.Namespace, warm: list[float]) -> int:
    per_call = max(min(warm[1:] or warm), 1e-6)
    return max(args.min_reps, min(args.reps, int(args.budget_s / per_call)))


async def measure_pair(name: str, r: Range, use_cases: Any, conn: psycopg.AsyncConnection[Any],
                       trace: cases.SqlTrace, args: argparse.Namespace) -> dict[str, Any]:
    """Warm both sides up, then alternate them call by call (drift hits both alike)."""
    label, case_call = cases.CALLS[name]
    peer_call = peer.CALLS[name]
    ours, theirs = Side(), Side()
    before = await quiet.wait_for_quiet(conn, args.database, args.quiet_wait_s, log=log)
    # warm-up: --warmup calls, or fewer (at least one) for a side that takes seconds
    for n in range(args.warmup):
        if n == 0 or sum(ours.warmup_s) < WARMUP_S:
            seconds, ours.answer = await _timed(lambda: case_call(use_cases, r))
            ours.warmup_s.append(seconds)
        if n == 0 or sum(theirs.warmup_s) < WARMUP_S:
            seconds, theirs.answer = await _timed(lambda: peer_call(conn, r))
            theirs.warmup_s.append(seconds)
    ours.reps, theirs.reps = _reps(args, ours.warmup_s), _reps(args, theirs.warmup_s)
    statements: list[int] = []
    sql_s: list[float] = []
    last_trace: list[cases.Statement] = []
    others = await quiet.Others.start(conn, args.database)
    for i in range(max(ours.reps, theirs.reps)):
        if i < ours.reps:
            trace.start()
            seconds, ours.answer = await _timed(lambda: case_call(use_cases, r))
            last_trace = trace.stop()
            ours.times_s.append(seconds)
            statements.append(len(last_trace))
            sql_s.append(sum(s.seconds for s in last_trace))
        if i < theirs.reps:
            seconds, theirs.answer = await _timed(lambda: peer_call(conn, r))
            theirs.times_s.append(seconds)
    assert ours.answer is not None and theirs.answer is not None
    diff = answers.difference(ours.answer, theirs.answer)
    p_ours, p_theirs = stats.summary_ms(ours.times_s), stats.summary_ms(theirs.times_s)
    result: dict[str, Any] = {
        "case": name, "call": label, "range": r.label,
        "start": r.start.isoformat(), "end": r.end.isoformat(),
        "pantheon": {"reps": ours.reps, "warmup_ms": [round(s * 1000, 2) for s in ours.warmup_s],
                     **p_ours,
                     "sql_statements": int(stats.percentile(statements, 50)),
                     "sql_ms_p50": round(stats.percentile(sql_s, 50) * 1000, 2)},
        "raw_peer": {"reps": theirs.reps,
                     "warmup_ms": [round(s * 1000, 2) for s in theirs.warmup_s], **p_theirs},
        "speedup_p50": round(p_theirs["p50"] / p_ours["p50"], 2) if p_ours["p50"] else None,
        "speedup_p95": round(p_theirs["p95"] / p_ours["p95"], 2) if p_ours["p95"] else None,
        "goal_met": p_ours["p95"] < args.goal_ms,
        "check": {"equal": diff is None, "difference": diff,
                  "pantheon": ours.answer.summary, "raw_peer": theirs.answer.summary},
        "other_processes_cores_before": round(before, 2),
        "other_processes_cores_during": round(others.cores(), 2),
    }
    slowest = max(last_trace, key=lambda s: s.seconds, default=None)
    result["_slowest"] = slowest
    log(f"{r.label:>4} {label:<38} pantheon p50 {p_ours['p50']:8.1f} p95 {p_ours['p95']:8.1f} ms "
        f"({ours.reps}, {result['pantheon']['sql_statements']} stmts) | raw p50 "
        f"{p_theirs['p50']:8.1f} p95 {p_theirs['p95']:8.1f} ms ({theirs.reps}) | "
        f"{'same answer' if diff is None else 'DIFFERENT: ' + diff}")
    return result


def _slowest(statements: list[cases.Statement], n: int = 4) -> list[dict[str, Any]]:
    return [{"ms": round(st.seconds * 1000, 1), "sql": " ".join(st.sql.split())[:160]}
            for st in sorted(statements, key=lambda st: -st.seconds)[:n]]


async def explain(conn: psycopg.AsyncConnection[Any], statement: cases.Statement) -> str:
    cur = await conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql,  # type: ignore[arg-type]
                             statement.parameters)
    return "\n".join(row[0] for row in await cur.fetchall())


async def table_stats(conn: psycopg.AsyncConnection[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for table in ("llm_call_events", "usage_rollups_daily", "usage_rollups_monthly",
                  "user_activity_daily", "users"):
        cur = await conn.execute(
            f"SELECT count(*), pg_total_relation_size('{table}'), "  # noqa: S608
            f"pg_relation_size('{table}') FROM {table}")
        row = await cur.fetchone()
        assert row is not None
        out[table] = {"rows": int(row[0]), "total_mb": round(row[1] / 2**20, 1),
                      "heap_mb": round(row[2] / 2**20, 1)}
    return out


async def recorded_count(conn: psycopg.AsyncConnection[Any], since: datetime | None,
                         before: datetime | None) -> int:
    """Events recorded in ``[since, before)`` (either end open when None)."""
    cur = await conn.execute(
        "SELECT count(*) FROM llm_call_events WHERE (%(since)s::timestamptz IS NULL OR "
        "recorded_at >= %(since)s) AND (%(before)s::timestamptz IS NULL OR "
        "recorded_at < %(before)s)", {"since": since, "before": before})
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def event_count(conn: psycopg.AsyncConnection[Any], start: date, end: date) -> int:
    cur = await conn.execute(
        "SELECT count(*) FROM llm_call_events WHERE created_at >= %s AND created_at < %s",
        (answers.at_midnight(start), answers.at_midnight(end)))
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def main(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    now = start_time()
    today = now.date()
    shape = generate.Shape(events=args.events, users=args.users, days=args.days, end=today,
                           seed=args.seed)
    admin_url = generate.server_url("postgres", args.host, args.port, args.user)
    url = generate.server_url(args.database, args.host, args.port, args.user)
    results: dict[str, Any] = {
        "benchmark": "analytics", "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine.machine(), "git": machine.git_commit(REPO),
        "versions": {"pantheon": machine.pantheon_versions()},
        "parameters": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "clock": now.isoformat(), "today": today.isoformat(),
        "data": {"start": shape.start.isoformat(), "end": shape.end.isoformat()},
    }
    data_dir = Path(tempfile.mkdtemp(prefix="bench-analytics-"))

    log(f"database {args.database}: drop, create, migrate")
    started = time.perf_counter()
    await generate.recreate_database(admin_url, args.database)
    await generate.migrate(url, data_dir)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cur = await conn.execute("SELECT version(), current_setting('shared_buffers'), "
                                 "current_setting('work_mem'), "
                                 "current_setting('max_parallel_workers_per_gather')")
        row = await cur.fetchone()
        assert row is not None
        results["postgres"] = {"version": row[0], "shared_buffers": row[1], "work_mem": row[2],
                               "max_parallel_workers_per_gather": row[3]}
        cur = await conn.execute("SELECT version_num FROM alembic_version")
        rev = await cur.fetchone()
        results["migration"] = rev[0] if rev else None
    results["migrate_s"] = round(time.perf_counter() - started, 2)

    log(f"loading {args.events:,} events, {args.users:,} users, {args.days} days "
        f"({shape.start} to {today}, exclusive)")
    the_plan, timings = await generate.load(url, shape, loaders=args.loaders,
                                            log=lambda m: log(m.strip()))
    loaded = await generate.count_events(url)
    if loaded != args.events:
        log(f"FAILED: {loaded} events loaded, {args.events} planned")
        return 1
    results["load"] = {"events": loaded, "active_user_days": len(the_plan.rows),
                       "plan_s": round(timings.plan_s, 2),
                       "copy_users_and_plan_s": round(timings.copy_plan_s, 2),
                       "insert_s": round(timings.insert_s, 2),
                       "rebuild_indexes_s": round(timings.index_s, 2),
                       "vacuum_analyze_s": round(timings.vacuum_s, 2),
                       "total_s": round(timings.total_s, 2),
                       "events_per_s": round(loaded / timings.total_s)}
    log(f"loaded in {timings.total_s:.1f} s in all")

    clock = FrozenClock(now)
    # No lag in the rounds: each one adds exactly the events it just inserted (the product's
    # 30 s lag only shifts which minute a run adds; the tail below is left for the readers).
    settings = Settings(database_url=generate.sqlalchemy_url(url), data_dir=data_dir,
                        auto_migrate=False, rollup_lag_s=0)
    container = await build_container(settings, clock=clock)
    trace = cases.SqlTrace()
    trace.install()
    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    exit_code = 0
    try:
        uc = container.use_cases
        operator = Actor.operator()

        log("rollup: everything")
        await quiet.wait_for_quiet(conn, args.database, args.quiet_wait_s, log=log)
        trace.start()
        started = time.perf_counter()
        rolled = await uc.rollup_usage(operator)
        full_s = time.perf_counter() - started
        full_statements = trace.stop()
        results["rollup_full"] = {
            "start": rolled.start.isoformat(), "end": rolled.end.isoformat(),
            "events": loaded, "seconds": round(full_s, 2),
            "events_per_s": round(loaded / full_s), "daily_rows": rolled.daily_rows,
            "monthly_rows": rolled.monthly_rows,
            "watermark": rolled.watermark.isoformat() if rolled.watermark else None,
            "statements": len(full_statements),
            "slowest_statements": _slowest(full_statements)}
        log(f"rollup: {loaded:,} events in {full_s:.1f} s ({loaded / full_s:,.0f} events/s), "
            f"watermark {rolled.watermark}")
        started = time.perf_counter()
        for table in ("usage_rollups_daily", "usage_rollups_monthly", "user_activity_daily"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        results["rollup_full"]["vacuum_analyze_s"] = round(time.perf_counter() - started, 2)

        span = args.incremental_events / args.rate
        rounds = []
        for n in range(args.incremental_rounds):
            clock.current = now + timedelta(seconds=span * (n + 1))
            inserted_s = await generate.insert_recent(
                url, the_plan, events=args.incremental_events, until=clock.current,
                span_s=span, seed=args.seed + 100 + n)
            await quiet.wait_for_quiet(conn, args.database, args.quiet_wait_s, log=log)
            trace.start()
            started = time.perf_counter()
            rolled = await uc.rollup_usage(operator)
            seconds = time.perf_counter() - started
            statements = trace.stop()
            added = await recorded_count(conn, rolled.added_from, rolled.watermark)
            rounds.append({
                "new_events": args.incremental_events, "new_events_span_s": span,
                "insert_s": round(inserted_s, 2),
                "added_from": rolled.added_from.isoformat() if rolled.added_from else None,
                "watermark": rolled.watermark.isoformat() if rolled.watermark else None,
                "events_added": added, "seconds": round(seconds, 3),
                "events_per_s": round(added / seconds),
                "keeps_up": seconds < span and added == args.incremental_events,
                "headroom": round(span / seconds, 1),
                "daily_rows": rolled.daily_rows, "statements": len(statements),
                "slowest_statements": _slowest(statements)})
            log(f"incremental rollup {n + 1}: {args.incremental_events:,} new events "
                f"({span:.0f} s at {args.rate:,.0f}/s); added {added:,} events "
                f"({rolled.daily_rows:,} daily rows) in {seconds:.2f} s — "
                f"{'keeps up' if seconds < span else 'FALLS BEHIND'} ({span / seconds:.1f}x)")
        seconds_list = [r["seconds"] for r in rounds]
        results["rollup_incremental"] = {
            "rounds": rounds,
            "seconds_p50": round(stats.percentile(seconds_list, 50), 3) if rounds else None,
            "seconds_max": max(seconds_list) if rounds else None,
            "rate_events_per_s": args.rate,
            "keeps_up": bool(rounds) and all(r["keeps_up"] for r in rounds)}
        if args.tail_events:
            tail_span = args.tail_events / args.rate
            clock.current = clock.current + timedelta(seconds=tail_span)
            await generate.insert_recent(url, the_plan, events=args.tail_events,
                                         until=clock.current, span_s=tail_span,
                                         seed=args.seed + 99)
            await quiet.wait_for_quiet(conn, args.database, args.quiet_wait_s, log=log)
        tail = await recorded_count(conn, rolled.watermark, None)
        results["tail"] = {"events_not_rolled_up": tail, "planned": args.tail_events}
        log(f"analytics will read {tail:,} events not rolled up yet")
        results["tables"] = await table_stats(conn)

        ranges = []
        for part in args.ranges.split(","):
            days = int(part)
            ranges.append(Range(f"{days}d", today - timedelta(days=days),
                                today + timedelta(days=1)))
        results["ranges"] = [{"label": r.label, "start": r.start.isoformat(),
                              "end": r.end.isoformat(),
                              "events": await event_count(conn, r.start, r.end)}
                             for r in ranges]
        measured = []
        for r in ranges:
            for name in cases.CALLS:
                measured.append(await measure_pair(name, r, uc, conn, trace, args))
        for m in measured:
            slowest: cases.Statement | None = m.pop("_slowest")
            if slowest is not None:
                m["pantheon"]["slowest_statement"] = {
                    "ms": round(slowest.seconds * 1000, 2), "sql": slowest.sql,
                    "parameters": {k: str(v) for k, v in (slowest.parameters or {}).items()}
                    if isinstance(slowest.parameters, dict) else str(slowest.parameters)}
                if not m["goal_met"] and not args.no_explain:
                    with contextlib.suppress(psycopg.Error):
                        m["pantheon"]["slowest_statement"]["explain_analyze"] = await explain(
                            conn, slowest)
        results["analytics"] = measured
        if not all(m["check"]["equal"] for m in measured):
            exit_code = 1
    finally:
        trace.remove()
        await conn.close()
        await container.aclose()
        if args.drop_after:
            with contextlib.suppress(psycopg.Error):
                async with await psycopg.AsyncConnection.connect(admin_url,
                                                                 autocommit=True) as admin:
                    await admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')

    results["goals"] = report.goals(results, args.goal_ms)
    results["duration_s"] = round(time.perf_counter() - began, 1)
    json_path, md_path = report.write(results, args.results_dir)
    log(f"results: {json_path}, {md_path}")
    link = os.path.relpath(json_path, REPO / "bench")  # noqa: ASYNC240 (no I/O)
    if not args.no_readme:
        report.update_readme(REPO / "bench" / "README.md", results, link)
        log("bench/README.md: results section rewritten")
    print(report.render(results, link))
    return exit_code


def run(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    return asyncio.run(main(args))


if __name__ == "__main__":
    sys.exit(run())
