"""``make bench-api-load``: Pantheon's read endpoints under 50, 200 and 500 concurrent clients
on PostgreSQL, while every client also streams a turn — against the floor of the same stack.

1. Creates the PostgreSQL database ``--database`` (dropped first if present; dropped again at
   the end unless ``--keep-database``), migrates it and seeds one user per client of the
   highest level through the product's use cases (:mod:`bench.api_load.seed`).
2. Starts ``pantheon serve --workers N`` on it (the offline model with
   ``--word-delay-ms``, so a turn streams for a few seconds) and the floor
   (:mod:`bench.api_load.floor`: one SQL statement per read on the same uvicorn, driver
   and worker count).
3. At each level, three phases of ``--duration-s`` seconds each, with closed-loop clients
   (:mod:`bench.api_load.load`): *floor* (reads), *pantheon* (reads) and *pantheon +
   turns* (the same reads while each client also sends one message and reads its SSE
   stream to the end). Before each phase it waits (bounded) for other processes to calm
   down, and records the CPU of the servers, of PostgreSQL's backends for this database,
   of the load generator itself and of everything else.
4. Scrapes ``/metrics`` halfway through the *pantheon + turns* phase of each level.

Results: ``bench/results/api-load-<date>.json`` and ``.md`` and a marked section of
``bench/README.md``. The exit status is non-zero when the run itself breaks (or with
``--smoke``, when any request or turn failed); missed goals are reported, not asserted.

    python -m bench.api_load.run [--levels 50,200,500] [--duration-s 20] [--workers 2]
    python -m bench.api_load.run --levels 50 --duration-s 5 --no-readme   # a quick look
    python -m bench.api_load.run --smoke --results-dir /tmp/x             # seconds; for tests
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

from bench.api_load import load, profile, report, seed
from bench.stream_overhead import machine, procs, sampler, stats
from pantheon_adapters.settings import Settings

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
DATABASE = "pantheon_bench_api_load"
PHASES = ("floor", "pantheon", "pantheon+turns")
CAPACITY = ("floor capacity", "pantheon capacity")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.api_load.run",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--levels", default="50,200,500",
                        help="concurrent clients per level (default: %(default)s)")
    parser.add_argument("--duration-s", type=float, default=20.0,
                        help="measured seconds per phase and level (default: %(default)s)")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help="which phases, in this order (default: %(default)s)")
    parser.add_argument("--think-ms", type=float, default=1000.0,
                        help="each client's mean pause between two reads (default: "
                             "%(default)s; 0: closed loop)")
    parser.add_argument("--capacity-clients", type=int, default=50,
                        help="after the levels, this many clients in a closed loop (no think "
                             "time) against each server: its capacity in reads/s "
                             "(default: %(default)s; 0: skip)")
    parser.add_argument("--workers", type=int, default=2,
                        help="uvicorn worker processes of both servers (default: %(default)s)")
    parser.add_argument("--word-delay-ms", type=int, default=30,
                        help="the offline model's delay per word (default: %(default)s: "
                             "a turn of 2 agents streams for 3-5 s)")
    parser.add_argument("--agents", type=int, default=2, choices=range(1, 5),
                        help="agents per room, all answering each turn (roundtable)")
    parser.add_argument("--history-turns", type=int, default=1,
                        help="finished turns seeded in each user's room (default: %(default)s)")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="the load generator's HTTP client (default: %(default)s)")
    parser.add_argument("--turn-timeout-s", type=float, default=120.0)
    parser.add_argument("--postgres-url", default=os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a database on the server to connect to for CREATE/DROP DATABASE "
             "(default: $BENCH_POSTGRES_URL or %(default)s)")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--redis-url", default=None,
                        help="give Pantheon PANTHEON_REDIS_URL (turn events and rate limits "
                             "through Redis, as in production with several instances)")
    parser.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra PANTHEON_* settings for the server (repeatable)")
    parser.add_argument("--goal-ms", type=float, default=50.0)
    parser.add_argument("--goal-clients", type=int, default=200)
    parser.add_argument("--srs-ms", type=float, default=500.0)
    parser.add_argument("--quiet-wait-s", type=float, default=20.0,
                        help="before each phase, wait up to this long for other processes "
                             "to use < 0.25 cores")
    parser.add_argument("--results-dir", type=Path, default=BENCH / "results")
    parser.add_argument("--readme", type=Path, default=BENCH / "README.md")
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="record Pantheon with py-spy (from bench/.venv, installed on first "
                             "use) during each of its phases; collapsed stacks go to "
                             "bench/results/profiles/, a summary to the JSON and the console")
    parser.add_argument("--profile-args", default="",
                        help="extra py-spy record arguments, e.g. '--native' or '--idle'")
    parser.add_argument("--note", default="",
                        help="a sentence printed at the top of the results (e.g. why a run "
                             "was short)")
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds: 4 clients, 2 s phases, 1 worker, 1 agent, short "
                             "turns, no README; fails unless every request and turn succeeded")
    args = parser.parse_args(argv)
    if args.smoke:
        args.levels, args.duration_s, args.workers, args.agents = "4", 1.5, 1, 1
        args.word_delay_ms, args.quiet_wait_s, args.no_readme = 2, 0.0, True
        args.think_ms, args.capacity_clients = 20.0, 4
        args.turn_timeout_s = 60.0
        if args.database == DATABASE:
            args.database = f"{DATABASE}_smoke_{os.getpid()}"
    args.level_list = [int(x) for x in args.levels.split(",") if x.strip()]
    args.phase_list = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(args.phase_list) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {sorted(unknown)}")
    return args


def log(message: str) -> None:
    print(f"bench-api-load: {message}", flush=True)


def database_url(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def clean_env() -> dict[str, str]:
    drop = ("PANTHEON_", "BENCH_", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
            "ALL_PROXY", "all_proxy")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def pantheon_env(args: argparse.Namespace, url: str, data_dir: Path) -> dict[str, str]:
    env = clean_env()
    env.update({
        "PANTHEON_DATABASE_URL": seed.sqlalchemy_url(url),
        "PANTHEON_AUTO_MIGRATE": "false",
        "PANTHEON_DATA_DIR": str(data_dir),
        "PANTHEON_OFFLINE_WORD_DELAY_MS": str(args.word_delay_ms),
        "PANTHEON_LOG_LEVEL": "WARNING",
        "PANTHEON_ENV": "development",
    })
    if args.redis_url:
        env["PANTHEON_REDIS_URL"] = args.redis_url
    for item in args.server_env:
        key, _, value = item.partition("=")
        env[key.strip()] = value
    return env


def server_pool(args: argparse.Namespace) -> tuple[int, int]:
    """Pantheon's pool size and overflow (its settings, or what --server-env sets): the
    floor's pool is sized the same."""
    given = dict(item.partition("=")[::2] for item in args.server_env)
    fields = Settings.model_fields
    return (int(given.get("PANTHEON_DATABASE_POOL_SIZE")
                or fields["database_pool_size"].default),
            int(given.get("PANTHEON_DATABASE_MAX_OVERFLOW")
                or fields["database_max_overflow"].default))


def start_servers(ps: procs.Processes, args: argparse.Namespace, url: str,
                  data_dir: Path) -> dict[str, tuple[procs.Child, int]]:
    venv = REPO / ".venv" / "bin"
    servers: dict[str, tuple[procs.Child, int]] = {}
    port = procs.free_port()
    child = ps.start("pantheon", [str(venv / "pantheon"), "serve", "--host", "127.0.0.1",
                                  "--port", str(port), "--workers", str(args.workers)],
                     env=pantheon_env(args, url, data_dir), cwd=REPO)
    servers["pantheon"] = (child, port)
    port = procs.free_port()
    env = clean_env()
    env["BENCH_FLOOR_DATABASE_URL"] = seed.sqlalchemy_url(url)
    size, overflow = server_pool(args)
    env["BENCH_FLOOR_POOL_SIZE"], env["BENCH_FLOOR_MAX_OVERFLOW"] = str(size), str(overflow)
    child = ps.start("floor", [str(venv / "python"), "-m", "uvicorn",
                               "bench.api_load.floor:create_app", "--factory", "--host",
                               "127.0.0.1", "--port", str(port), "--workers",
                               str(args.workers), "--log-level", "warning", "--no-access-log"],
                     env=env, cwd=REPO)
    servers["floor"] = (child, port)
    for name, (child, port) in servers.items():
        path = "/readyz" if name == "pantheon" else "/api/v1/rooms"
        procs.wait_http(child, f"http://127.0.0.1:{port}{path}", timeout_s=90,
                        accept=lambda r: r.status_code in (200, 401))
    return servers


# ------------------------------------------------------------------------ measuring

class Backends:
    """CPU of PostgreSQL's backends serving the benchmark's database, over a phase: the
    processes whose title (``postgres: 15/main: USER DATABASE HOST(PORT) STATE``) names it."""

    def __init__(self, database: str) -> None:
        self.marker = f" {database} ".encode()

    def snapshot(self) -> dict[int, float]:
        out: dict[int, float] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                if title.startswith(b"postgres:") and self.marker in title:
                    out[int(entry.name)] = sampler.cpu_seconds(int(entry.name))
        return out

    def since(self, before: dict[int, float]) -> float:
        return sum(cpu - before.get(pid, 0.0) for pid, cpu in self.snapshot().items())


def scrape_metrics(port: int, store: dict[str, Any]) -> None:
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10.0)
    except httpx.HTTPError as exc:
        store.update(available=False, error=f"{type(exc).__name__}: {exc}")
        return
    store["status"] = response.status_code
    kind = response.headers.get("content-type", "")
    if response.status_code != 200 or not ("text/plain" in kind or "openmetrics" in kind):
        store.update(available=False, error=f"HTTP {response.status_code}",
                     body=response.text[:200])
        return
    lines = response.text.splitlines()
    samples = [line for line in lines if line and not line.startswith("#")]
    store.update(available=True, lines=len(lines), samples=len(samples),
                 families=sorted({line.split()[2] for line in lines
                                  if line.startswith("# TYPE ")}),
                 snippet=[line for line in samples
                          if any(k in line for k in ("request", "turn", "stream", "llm",
                                                     "queue", "job"))
                          and "_created" not in line and "_bucket" not in line][:60],
                 text=response.text)


def log_errors(path: Path, limit: int = 30, tracebacks: int = 3) -> dict[str, Any]:
    """How many ERROR records a server logged, the first few, and the first tracebacks
    whole (a traceback runs until the next line that starts with a timestamp)."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return {"count": 0, "first": [], "tracebacks": []}
    errors = [line[:300] for line in lines
              if " ERROR " in line or '"level": "ERROR"' in line or '"level":"ERROR"' in line]
    found: list[str] = []
    current: list[str] | None = None
    for line in lines:
        if line.startswith("Traceback"):
            current = [line]
        elif current is not None and (line[:2].isdigit() or line.startswith("{")):
            found.append("\n".join(current))
            current = None
            if len(found) == tracebacks:
                break
        elif current is not None:
            current.append(line)
    if current is not None and len(found) < tracebacks:
        found.append("\n".join(current))
    return {"count": len(errors), "first": errors[:limit], "tracebacks": found}


def summarise(phase: load.Phase, seconds: float) -> dict[str, Any]:
    endpoints: dict[str, Any] = {}
    all_ok: list[float] = []
    total_errors = 0
    for name, values in phase.latencies.items():
        errors = sum(phase.errors[name].values())
        total_errors += errors
        all_ok += values
        sent = len(values) + errors
        endpoints[name] = {"requests": sent, "ok": len(values), "errors": errors,
                           "error_rate": round(errors / sent, 5) if sent else None,
                           "error_kinds": phase.errors[name],
                           "per_s": round(len(values) / seconds, 1), **stats.summary_ms(values)}
    sent = len(all_ok) + total_errors
    out: dict[str, Any] = {
        "endpoints": endpoints,
        "all": {"requests": sent, "ok": len(all_ok), "errors": total_errors,
                "error_rate": round(total_errors / sent, 5) if sent else None,
                "per_s": round(len(all_ok) / seconds, 1), **stats.summary_ms(all_ok)},
        "reads_wall_s": round(phase.reads_wall_s, 2), "wall_s": round(phase.wall_s, 2),
        "warmup_errors": phase.warmup_errors, "reconnects": phase.reconnects,
        "stale_connection_retries": phase.stale_retries,
        "client_cpu_s": round(phase.client_cpu_s, 2),
        "client_cpu_ms_per_request": round(phase.client_cpu_s * 1000 / sent, 3) if sent else None,
        "client_cores": round(phase.client_cpu_s / phase.reads_wall_s, 2)
        if phase.reads_wall_s else None,
    }
    if phase.turns:
        ok = [t for t in phase.turns if t.ok]
        kinds: dict[str, int] = {}
        refusals: dict[str, int] = {}
        for t in phase.turns:
            for code, count in t.refusals.items():
                refusals[code] = refusals.get(code, 0) + count
            if not t.ok:
                key = (t.error or "?")[:120]
                kinds[key] = kinds.get(key, 0) + 1
        out["turns"] = {
            "sent": len(phase.turns), "completed": len(ok), "failed": len(phase.turns) - len(ok),
            "cut": phase.turns_cut, "all_completed": len(ok) == len(phase.turns),
            "error_kinds": kinds,
            "first_event_ms": stats.summary_ms([t.first_event_s for t in phase.turns
                                                if t.first_event_s is not None]),
            "first_text_ms": stats.summary_ms([t.first_text_s for t in ok
                                               if t.first_text_s is not None]),
            "total_ms": stats.summary_ms([t.total_s for t in ok if t.total_s is not None]),
            "events_per_turn": round(sum(t.events for t in ok) / len(ok), 1) if ok else None,
            "refused_then_retried": sum(1 for t in phase.turns if t.refusals),
            "refusals": refusals,
        }
    return out


async def measure(args: argparse.Namespace, name: str, clients: int,
                  servers: dict[str, tuple[procs.Child, int]], users: list[seed.SeededUser],
                  backends: Backends, level_index: int,
                  ps: procs.Processes | None = None) -> dict[str, Any]:
    target = "floor" if name.startswith("floor") else "pantheon"
    think_s = 0.0 if name in CAPACITY else args.think_ms / 1000
    child, port = servers[target]
    if not child.alive():
        raise RuntimeError(f"{target} exited with {child.popen.returncode}; its log ends "
                           f"with:\n{child.log_tail()}")
    waited = await asyncio.to_thread(sampler.wait_for_quiet, args.quiet_wait_s) \
        if args.quiet_wait_s > 0 else None
    metrics: dict[str, Any] = {}
    during = (lambda: scrape_metrics(port, metrics)) if name == "pantheon+turns" else None
    recording = None
    if args.profile and ps is not None and not name.startswith("floor"):
        out = args.profile_dir / f"{name.replace(' ', '-')}-c{clients}.txt"
        recording = profile.Recording(ps, args.py_spy, child.pid, out, clean_env(),
                                      args.profile_args)
        await asyncio.sleep(1.0)  # py-spy attaches
    pg0 = backends.snapshot()
    server0 = sampler.cpu_seconds(child.pid)
    with sampler.ForeignLoad() as foreign:
        phase = await load.run_phase(
            args.client, "127.0.0.1", port, users, clients=clients, duration_s=args.duration_s,
            turns=name == "pantheon+turns", think_s=think_s,
            turn_timeout_s=args.turn_timeout_s, seed=level_index, during=during)
    server_cpu = sampler.cpu_seconds(child.pid) - server0
    pg_cpu = backends.since(pg0)
    result = summarise(phase, phase.reads_wall_s)
    sent = result["all"]["requests"]
    result.update({
        "phase": name, "clients": clients, "think_ms": think_s * 1000,
        "server_cpu_s": round(server_cpu, 2),
        "server_cpu_ms_per_request": round(server_cpu * 1000 / sent, 3) if sent else None,
        "postgres_cpu_s": round(pg_cpu, 2),
        "postgres_cpu_ms_per_request": round(pg_cpu * 1000 / sent, 3) if sent else None,
        # everything else: machine busy time minus this process tree (client and servers)
        # minus the PostgreSQL backends of this database
        "other_cores": round(max(0.0, (foreign.result.cpu_s - pg_cpu)) / foreign.result.wall_s,
                             2) if foreign.result else None,
        "other_cores_before": round(waited.cores, 2) if waited else None,
    })
    if recording is not None:
        await asyncio.to_thread(recording.stop)
        if recording.out.exists():
            summary = profile.summarise(recording.out)
            result["profile"] = {"file": str(recording.out.relative_to(args.results_dir)),
                                 **summary}
            print(profile.render(summary), flush=True)
    if metrics:
        text = metrics.pop("text", None)
        result["metrics"] = metrics
        if text:
            result["_metrics_text"] = text
    a = result["all"]
    turns = result.get("turns")
    log(f"c={clients:<4} {name:<15} {a['ok']:>7} ok {a['errors']:>4} err  "
        f"{a['per_s']:>7.1f}/s  p50 {a['p50']:7.1f}  p95 {a['p95']:7.1f}  p99 {a['p99']:7.1f} ms"
        f"  server {result['server_cpu_ms_per_request']} ms/req, client "
        f"{result['client_cpu_ms_per_request']} ms/req, others {result['other_cores']} cores"
        + (f"  | turns {turns['completed']}/{turns['sent']} first event p95 "
           f"{turns['first_event_ms']['p95']:.0f} ms" if turns else ""))
    return result


async def main(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    admin_url = args.postgres_url
    url = database_url(admin_url, args.database)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%S")
    args.profile_dir = args.results_dir / "profiles" / f"api-load-{stamp}"
    if args.profile:
        args.py_spy = profile.ensure_py_spy(BENCH / ".venv")
    results: dict[str, Any] = {
        "benchmark": "api_load", "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine.machine(), "git": machine.git_commit(REPO),
        "versions": {"pantheon": machine.pantheon_versions()},
        "parameters": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                       if k not in ("level_list", "phase_list", "profile_dir", "py_spy")},
        "database_pool": dict(zip(("size", "max_overflow"), server_pool(args), strict=True)),
    }
    scratch = Path(tempfile.mkdtemp(prefix="bench-api-load-"))
    data_dir = scratch / "data"
    log(f"database {args.database}: drop, create, migrate")
    await seed.recreate_database(admin_url, args.database)
    exit_code = 0
    try:
        await seed.migrate(url, data_dir)
        users_needed = max(args.level_list)
        log(f"seeding {users_needed} users ({args.agents} agents and {args.history_turns} "
            "finished turns each)")
        seeded = await seed.seed(url, data_dir, users=users_needed, agents=args.agents,
                                 history_turns=args.history_turns, log=log)
        results["seed"] = {"users": len(seeded.users), "seconds": round(seeded.seconds, 1),
                           "rows": seeded.counts}
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            cur = await conn.execute("SELECT version(), current_setting('max_connections'), "
                                     "current_setting('shared_buffers')")
            row = await cur.fetchone()
            assert row is not None
            results["postgres"] = {"version": row[0].split(" on ")[0], "max_connections": row[1],
                                   "shared_buffers": row[2]}
        backends = Backends(args.database)
        measured: list[dict[str, Any]] = []
        metrics_text: dict[str, str] = {}
        with procs.managed(scratch) as ps:
            servers = start_servers(ps, args, url, data_dir)
            log(f"servers up: pantheon :{servers['pantheon'][1]}, floor :{servers['floor'][1]}"
                f" ({args.workers} worker(s) each)")
            for index, clients in enumerate(args.level_list):
                for name in args.phase_list:
                    result = await measure(args, name, clients, servers, seeded.users, backends,
                                           index, ps)
                    text = result.pop("_metrics_text", None)
                    if text:
                        metrics_text[str(clients)] = text
                    measured.append(result)
            if args.capacity_clients:
                for name in CAPACITY:
                    measured.append(await measure(args, name, args.capacity_clients, servers,
                                                  seeded.users, backends, len(args.level_list),
                                                  ps))
        results["phases"] = measured
        results["server_log_errors"] = {name: log_errors(scratch / f"{name}.log")
                                        for name in ("pantheon", "floor")}
        results["rows_after"] = await seed.table_counts(url)
        if metrics_text:
            last = list(metrics_text)[-1]
            results["metrics_scrape_clients"] = int(last)
            metrics_path = args.results_dir / f"api-load-{results['date'][:10]}.metrics.txt"
            args.results_dir.mkdir(parents=True, exist_ok=True)
            metrics_path.write_text(metrics_text[last])
            results["metrics_file"] = metrics_path.name
    finally:
        if args.keep_database:
            log(f"database {args.database} kept")
        else:
            await seed.drop_database(admin_url, args.database)
        shutil.rmtree(scratch, ignore_errors=True)

    results["goals"] = report.goals(results, goal_ms=args.goal_ms, goal_clients=args.goal_clients,
                                    srs_ms=args.srs_ms)
    results["duration_s"] = round(time.perf_counter() - began, 1)
    json_path, md_path = report.write(results, args.results_dir)
    log(f"results: {json_path}, {md_path}")
    if not args.no_readme:
        link = os.path.relpath(json_path, args.readme.parent)  # noqa: ASYNC240 (no I/O)
        report.update_readme(args.readme, results, link)
        log(f"{args.readme}: results section rewritten")
    print(report.render(results, json_path.name))
    if args.smoke and not results["goals"]["no_errors"]["met"]:
        exit_code = 1
    return exit_code


def run(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(main(args))
    return 130


if __name__ == "__main__":
    sys.exit(run())
