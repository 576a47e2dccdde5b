"""``make bench``: Pantheon's streaming overhead vs a LiteLLM proxy, over one fake provider.

Starts three servers on 127.0.0.1 — the fake OpenAI-compatible provider (fixed time to
first token and token rate), Pantheon (``pantheon serve``, its own temporary data dir) and
a LiteLLM proxy (``bench/.venv``) routed to the same provider — then, per concurrency
level, drives the same number of streamed turns through (a) the provider directly (the
baseline), (b) the LiteLLM proxy and (c) Pantheon's direct chat over SSE, and reports the
time each adds to the first token and to the whole answer, plus Pantheon's CPU and memory.
Results go to ``bench/results/stream_overhead-<date>.json`` and a marked section of
``bench/README.md``. Bounded: fixed turn counts, a per-level and a global time limit; every
process it starts is stopped on the way out (Ctrl-C and failures included).

    python -m bench.stream_overhead.run [--levels 1:20,16:128,64:256] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from bench.stream_overhead import load, machine, peer, persisted, procs, report, sampler, stats

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
PROVIDER_MODEL = "qwen/qwen3-32b"
AGENT = {"name": "Bench", "model_alias": "qwen"}
DIRECT_SESSIONS = "/api/v1/direct-sessions"
MESSAGE = "Benchmark turn {n}: answer in a hundred words."


@dataclass
class Servers:
    fake_url: str = ""          # http://127.0.0.1:P  (OpenAI routes under /v1)
    pantheon_url: str = ""
    litellm_url: str = ""
    pantheon: procs.Child | None = None
    litellm: procs.Child | None = None
    token: str = ""
    litellm_key: str = ""
    data_dir: Path = Path()
    pantheon_turn_ids: list[str] = field(default_factory=list)


def parse_levels(text: str) -> list[tuple[int, int]]:
    levels = []
    for part in text.split(","):
        concurrency, _, turns = part.partition(":")
        levels.append((int(concurrency), int(turns or concurrency)))
    return levels


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.stream_overhead.run",
                                     description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--levels", default="1:20,16:128,64:256",
                        help="concurrency:turns pairs (default: %(default)s)")
    parser.add_argument("--ttft-ms", type=float, default=150.0)
    parser.add_argument("--tokens", type=int, default=100)
    parser.add_argument("--token-ms", type=float, default=8.0)
    parser.add_argument("--targets", default="direct,litellm,pantheon",
                        help="which to drive, in this order (direct is the baseline)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="measure every target this many times per level, alternating "
                             "the order; samples are pooled (default: %(default)s)")
    parser.add_argument("--quiet-wait-s", type=float, default=30.0,
                        help="before each measurement, wait up to this long for other "
                             "processes to use < 0.25 cores")
    parser.add_argument("--level-timeout-s", type=float, default=180.0,
                        help="per target and level: turns not done by then are cut")
    parser.add_argument("--timeout-s", type=int, default=2400,
                        help="hard limit for the whole run, setup included")
    parser.add_argument("--profile", action="store_true",
                        help="also record Pantheon (and LiteLLM) with py-spy at the highest "
                             "level (collapsed stacks in bench/results/profiles/)")
    parser.add_argument("--profile-args", default="",
                        help="extra py-spy record arguments, e.g. '--gil' or '--native'")
    parser.add_argument("--results-dir", type=Path, default=BENCH / "results")
    parser.add_argument("--readme", type=Path, default=BENCH / "README.md")
    parser.add_argument("--no-readme", action="store_true", help="do not touch the README")
    parser.add_argument("--keep-data", action="store_true",
                        help="keep the temporary data dir and server logs")
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------- servers

def clean_env() -> dict[str, str]:
    """The environment without any PANTHEON_* / proxy settings that could leak in."""
    drop = ("PANTHEON_", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
            "ALL_PROXY", "all_proxy")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_fake(ps: procs.Processes, args: argparse.Namespace, s: Servers) -> None:
    port = procs.free_port()
    child = ps.start("fake_provider", [
        str(REPO / ".venv" / "bin" / "python"), "-m", "tests.integration.fake_openrouter",
        "--host", "127.0.0.1", "--port", str(port), "--ttft-ms", f"{args.ttft_ms:g}",
        "--tokens", str(args.tokens), "--token-ms", f"{args.token_ms:g}"],
        env=clean_env(), cwd=REPO)
    s.fake_url = f"http://127.0.0.1:{port}"
    procs.wait_http(child, f"{s.fake_url}/v1/models", timeout_s=30)


def pantheon_env(s: Servers) -> dict[str, str]:
    env = clean_env()
    env.update({
        "PANTHEON_DATA_DIR": str(s.data_dir),
        "PANTHEON_LLM_BASE_URL": f"{s.fake_url}/v1",
        "PANTHEON_LLM_API_KEY": "sk-bench-dummy",
        "PANTHEON_LOG_LEVEL": "WARNING",
        "PANTHEON_ENV": "development",
    })
    return env


def start_pantheon(ps: procs.Processes, s: Servers, wait_for_api_s: float) -> None:
    port = procs.free_port()
    s.pantheon_url = f"http://127.0.0.1:{port}"
    s.pantheon = ps.start("pantheon", [
        str(REPO / ".venv" / "bin" / "pantheon"), "serve", "--host", "127.0.0.1",
        "--port", str(port)], env=pantheon_env(s), cwd=REPO)
    procs.wait_http(s.pantheon, f"{s.pantheon_url}/readyz", timeout_s=90,
                    accept=lambda r: r.status_code == 200)
    # Direct chat over HTTP may still be being built: say so clearly instead of failing later.
    procs.wait_http(s.pantheon, f"{s.pantheon_url}/api/openapi.json", timeout_s=wait_for_api_s,
                    accept=has_direct_chat)
    result = subprocess.run(  # noqa: S603
        [str(REPO / ".venv" / "bin" / "pantheon"), "--as", "bench@example.com", "auth", "token",
         "create", "--name", "bench", "--json"],
        env=pantheon_env(s), cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"pantheon auth token create failed ({result.returncode}):\n"
                           f"{result.stdout}\n{result.stderr}")
    s.token = json.loads(result.stdout)["secret"]


def has_direct_chat(response: httpx.Response) -> bool:
    if response.status_code != 200:
        return False
    paths = response.json().get("paths", {})
    return DIRECT_SESSIONS in paths and any(
        p.startswith(DIRECT_SESSIONS + "/") and p.endswith("/messages") for p in paths)


def start_litellm(ps: procs.Processes, s: Servers, venv: Path, scratch: Path) -> None:
    port = procs.free_port()
    s.litellm_url = f"http://127.0.0.1:{port}"
    s.litellm_key = "sk-bench-" + secrets.token_hex(16)
    config = peer.write_config(scratch / "litellm.yaml", provider_base_url=f"{s.fake_url}/v1",
                               provider_model=PROVIDER_MODEL, master_key=s.litellm_key)
    s.litellm = ps.start("litellm", peer.argv(venv, config, port),
                         env=peer.environment(clean_env()), cwd=scratch)
    procs.wait_http(s.litellm, f"{s.litellm_url}/health/liveliness", timeout_s=180,
                    accept=lambda r: r.status_code == 200)


# ---------------------------------------------------------------------------- the load

async def create_sessions(client: httpx.AsyncClient, base_url: str, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        response = await client.post(f"{base_url}{DIRECT_SESSIONS}", json={"agent": AGENT})
        if response.status_code >= 300:
            raise RuntimeError(f"creating a direct session failed: HTTP "
                               f"{response.status_code} {response.text[:300]}")
        body = response.json()
        ids.append(str(body.get("id") or body["session"]["id"]))
    return ids


def make_turn(key: str, s: Servers, client: httpx.AsyncClient,
              sessions: list[str]) -> load.Turn:
    async def turn(user: int, n: int) -> load.Sample:
        message = MESSAGE.format(n=n)
        if key == "pantheon":
            sample = await load.pantheon_turn(client, s.pantheon_url, sessions[user], message)
            if sample.turn_id:
                s.pantheon_turn_ids.append(sample.turn_id)
            return sample
        if key == "litellm":
            return await load.openai_stream(client, f"{s.litellm_url}/v1/chat/completions",
                                            peer.MODEL_NAME, message)
        return await load.openai_stream(client, f"{s.fake_url}/v1/chat/completions",
                                        PROVIDER_MODEL, message)
    return turn


class Profiler:
    """py-spy recording one server during one level (collapsed stacks, on-CPU only)."""

    def __init__(self, ps: procs.Processes, venv: Path, child: procs.Child, out: Path,
                 seconds: float, extra: str) -> None:
        self.ps, self.out = ps, out
        out.parent.mkdir(parents=True, exist_ok=True)
        self.child = ps.start(f"py-spy-{out.stem}", [
            str(venv / "bin" / "py-spy"), "record", "--pid", str(child.pid), "--rate", "200",
            "--format", "raw", "--output", str(out), "--duration", str(int(seconds) + 5),
            "--nonblocking", "--subprocesses", *extra.split()], env=clean_env())
        time.sleep(0.5)

    def stop(self) -> None:
        self.ps.stop(self.child, grace_s=15.0)  # SIGINT: py-spy writes what it recorded


@dataclass
class Measured:
    """One target at one concurrency, one round."""

    samples: list[load.Sample]
    wall_s: float
    cut: bool
    warm_ok: int
    warm: int
    usage: sampler.Usage | None
    foreign: sampler.Foreign | None
    turn_ids: list[str]


async def measure(key: str, concurrency: int, turns: int, s: Servers,
                  args: argparse.Namespace, ps: procs.Processes, venv: Path,
                  profile_to: Path | None) -> Measured:
    headers: dict[str, str] = {}
    server = None
    if key == "pantheon":
        headers, server = {"Authorization": f"Bearer {s.token}"}, s.pantheon
    elif key == "litellm":
        headers, server = {"Authorization": f"Bearer {s.litellm_key}"}, s.litellm
    async with load.client_for(concurrency, headers=headers) as client:
        sessions: list[str] = []
        if key == "pantheon":
            # A fresh session per virtual user and round: every session stays well under
            # the memory budget, so no summary call (an extra LLM call) is ever made.
            sessions = await create_sessions(client, s.pantheon_url, concurrency)
        turn = make_turn(key, s, client, sessions)
        # Warm-up: one round at this concurrency (connections opened, caches filled).
        warm, _, _ = await load.drive(concurrency, max(concurrency, 3), turn,
                                      timeout_s=args.level_timeout_s)
        first_measured = len(s.pantheon_turn_ids)
        await asyncio.sleep(0.5)
        profiler = None
        if profile_to is not None and server is not None:
            profiler = Profiler(ps, venv, server, profile_to, args.level_timeout_s,
                                args.profile_args)
        watch = sampler.Sampler(server.pid) if server is not None else None
        foreign = sampler.ForeignLoad()
        foreign.__enter__()
        if watch is not None:
            watch.__enter__()
        try:
            samples, wall, cut = await load.drive(concurrency, turns, turn,
                                                  timeout_s=args.level_timeout_s)
        finally:
            if watch is not None:
                watch.__exit__(None, None, None)
            foreign.__exit__(None, None, None)
            if profiler is not None:
                profiler.stop()
    return Measured(samples, wall, cut, sum(x.ok for x in warm), len(warm),
                    watch.usage if watch is not None else None, foreign.result,
                    s.pantheon_turn_ids[first_measured:])


def combine(runs: list[Measured], concurrency: int) -> dict[str, Any]:
    """Pool the rounds of one target at one concurrency."""
    samples = [x for r in runs for x in r.samples]
    wall = sum(r.wall_s for r in runs)
    result: dict[str, Any] = stats.describe(samples)
    result.update({
        "rounds": len(runs), "wall_s": round(wall, 3),
        "cut_by_timeout": any(r.cut for r in runs),
        "turns_per_s": round(len(samples) / wall, 2) if wall else None,
        "warmup_requests": sum(r.warm for r in runs),
        "warmup_ok": sum(r.warm_ok for r in runs),
        "other_processes_cpu_cores": [round(r.foreign.cores, 3) for r in runs if r.foreign],
    })
    usages = [(r, r.usage) for r in runs if r.usage is not None]
    if usages:
        cpu = sum(u.cpu_s for _, u in usages)
        done = max(1, result["ok"])
        worst = max(usages, key=lambda ru: ru[1].peak_rss - ru[1].idle_rss)[1]
        result["server"] = {
            "cpu_s": round(cpu, 3),
            "cpu_ms_per_turn": round(cpu * 1000 / done, 2),
            "cpu_utilisation": round(cpu / wall, 3) if wall else None,
            "idle_rss_mb": round(worst.idle_rss / 2**20, 1),
            "peak_rss_mb": round(max(u.peak_rss for _, u in usages) / 2**20, 1),
            "peak_mb_per_concurrent_turn": round(
                (worst.peak_rss - worst.idle_rss) / 2**20 / concurrency, 3),
            "rss_samples": sum(u.samples for _, u in usages),
            "peak_from_vmhwm_reset": all(u.hwm_reset for _, u in usages),
        }
    return result


async def run_level(concurrency: int, turns: int, s: Servers, args: argparse.Namespace,
                    ps: procs.Processes, venv: Path, profile: bool) -> dict[str, Any]:
    """Every target at this concurrency, ``args.rounds`` times, the order reversed on odd
    rounds (so drift on a shared machine does not favour one target)."""
    level: dict[str, Any] = {"concurrency": concurrency, "turns": turns * args.rounds,
                             "targets": {}, "pantheon_turn_ids": []}
    keys = [t.strip() for t in args.targets.split(",") if t.strip()]
    runs: dict[str, list[Measured]] = {k: [] for k in keys}
    for round_no in range(args.rounds):
        for key in keys if round_no % 2 == 0 else list(reversed(keys)):
            quiet = sampler.wait_for_quiet(args.quiet_wait_s)
            label = f"c={concurrency:<3} {key:<8} round {round_no + 1}/{args.rounds}"
            print(f"bench: {label}: {turns} turns (other processes: {quiet.cores:.2f} "
                  f"cores)…", flush=True)
            profile_to = None
            if profile and round_no == 0:
                profile_to = args.results_dir / "profiles" / f"{key}-c{concurrency}.txt"
            m = await measure(key, concurrency, turns, s, args, ps, venv, profile_to)
            runs[key].append(m)
            level["pantheon_turn_ids"].extend(m.turn_ids)
            one = stats.describe(m.samples)
            ttft, total = one["ttft_ms"], one["total_ms"]
            assert isinstance(ttft, dict) and isinstance(total, dict)
            print(f"bench: {label}: {one['ok']}/{one['requests']} ok in {m.wall_s:.1f} s; "
                  f"TTFT p50 {ttft.get('p50')} p95 {ttft.get('p95')} ms; total p50 "
                  f"{total.get('p50')} p95 {total.get('p95')} ms", flush=True)
            await asyncio.sleep(1.0)
    for key in keys:
        level["targets"][key] = combine(runs[key], concurrency)
    baseline = level["targets"].get("direct")
    if baseline:
        for key in ("litellm", "pantheon"):
            if key in level["targets"]:
                level["targets"][key].update(stats.added(level["targets"][key], baseline))
    return level


# ---------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    levels = parse_levels(args.levels)
    started = datetime.now(UTC)

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"the benchmark hit its global limit of {args.timeout_s} s")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.timeout_s)
    venv = peer.ensure_venv(BENCH / ".venv")
    if args.profile and not (venv / "bin" / "py-spy").exists():
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip",  # noqa: S603
                        "--disable-pip-version-check", "-q", "install", "py-spy"], check=True)
    scratch = Path(tempfile.mkdtemp(prefix="pantheon-bench-"))
    s = Servers(data_dir=scratch / "pantheon-data")
    ok = False
    try:
        with procs.managed(scratch) as ps:
            print(f"bench: scratch dir {scratch}", flush=True)
            start_fake(ps, args, s)
            start_pantheon(ps, s, wait_for_api_s=600)
            start_litellm(ps, s, venv, scratch)
            print(f"bench: provider {s.fake_url}, Pantheon {s.pantheon_url} "
                  f"(pid {s.pantheon.pid if s.pantheon else '?'}), LiteLLM {s.litellm_url} "
                  f"(pid {s.litellm.pid if s.litellm else '?'})", flush=True)
            top = max(c for c, _ in levels)

            async def measure() -> list[dict[str, Any]]:
                return [await run_level(c, n, s, args, ps, venv, args.profile and c == top)
                        for c, n in levels]

            results_levels = asyncio.run(measure())
            # Stop Pantheon gracefully (its lifespan ends running work), then read its DB.
            if s.pantheon is not None:
                code = ps.stop(s.pantheon, grace_s=20)
                print(f"bench: Pantheon stopped (exit {code})", flush=True)
        measured = [t for lv in results_levels for t in lv.pop("pantheon_turn_ids", [])]
        persistence = persisted.check(s.data_dir / "pantheon.db", measured)
        results = {
            "benchmark": "stream_overhead",
            "date": started.isoformat(timespec="seconds"),
            "duration_s": round((datetime.now(UTC) - started).total_seconds(), 1),
            "machine": machine.machine(),
            "git": machine.git_commit(REPO),
            "versions": {"pantheon": machine.pantheon_versions(),
                         "litellm": peer.versions(venv)},
            "parameters": {
                "levels": [{"concurrency": c, "turns_per_round": n} for c, n in levels],
                "rounds": args.rounds, "round_order": "targets in the given order on odd "
                "rounds, reversed on even ones; samples pooled over rounds",
                "quiet_wait_s": args.quiet_wait_s,
                "provider_ttft_ms": args.ttft_ms, "provider_tokens": args.tokens,
                "provider_token_ms": args.token_ms, "level_timeout_s": args.level_timeout_s,
                "targets": args.targets, "warmup": "before each measurement, one "
                "unmeasured batch of max(concurrency, 3) turns at that concurrency",
                "pantheon": "pantheon serve (1 uvicorn process), embedded SQLite, "
                            "PANTHEON_LOG_LEVEL=WARNING, direct chat, Accept: text/event-stream,"
                            " one fresh direct session per virtual user, level and round",
                "litellm": "litellm --config (1 worker), one model -> openai/<model> at the "
                           "fake provider, master key, no database, no callbacks",
                "client": "httpx.AsyncClient, max_connections = concurrency + 8, one process "
                          "on the same machine",
            },
            "method": stats.__doc__,
            "levels": results_levels,
            "persistence": persistence,
        }
        results["goal"] = report.goal(results_levels)
        path = report.write_json(results, args.results_dir)
        relative = path.relative_to(BENCH) if path.is_relative_to(BENCH) else path
        print(f"bench: results in {path}", flush=True)
        section = report.render(results, str(relative))
        if not args.no_readme:
            report.update_readme(args.readme, section)
            print(f"bench: summary written to {args.readme}", flush=True)
        print("\n" + section + "\n", flush=True)
        # Pantheon's failures fail the run; the peer's are reported (in the JSON and README).
        ok = persistence["ok"] and all(
            lv["targets"]["pantheon"]["failed"] == 0
            and not lv["targets"]["pantheon"]["cut_by_timeout"]
            for lv in results_levels if "pantheon" in lv["targets"])
        if not ok:
            print("bench: Pantheon turns failed or were not persisted (see the JSON)",
                  flush=True)
        return 0 if ok else 1
    finally:
        signal.alarm(0)
        if ok and not args.keep_data:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"bench: logs and data kept in {scratch}", flush=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench: interrupted; every process it started has been stopped", flush=True)
        sys.exit(130)
