"""How busy the machine is with work that is not this benchmark's.

Ours: this process, and the PostgreSQL processes working on the benchmark's database — its
connections and autovacuum workers (``pg_stat_activity``) and the parallel workers they
start (``postgres: parallel worker for PID <one of them>``). Others: every other process's
CPU time over the interval, read from ``/proc/<pid>/stat`` at both ends (a process that
both starts and ends within the interval is missed, so this is a lower bound). Other
engineers' test runs share these 2 cores: before each measurement the benchmark waits
(bounded) until others use less than a quarter of a core, and records what they used
before and during it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from pathlib import Path
from typing import Any

import psycopg

from bench.stream_overhead.sampler import CLK_TCK

PARALLEL = re.compile(r"parallel worker for PID (\d+)")


def _processes() -> dict[int, tuple[float, int, str]]:
    """pid -> (CPU seconds, start time, command line) of every process."""
    out: dict[int, tuple[float, int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
            # utime, stime, starttime: fields 14, 15 and 22 of stat(5)
            out[int(entry.name)] = ((int(fields[11]) + int(fields[12])) / CLK_TCK,
                                    int(fields[19]), cmdline)
    return out


async def _our_backends(conn: psycopg.AsyncConnection[Any], database: str) -> set[int]:
    cur = await conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s",
                             (database,))
    return {int(row[0]) for row in await cur.fetchall()}


class Others:
    """``others = await Others.start(conn, db)`` … ``others.cores()``."""

    def __init__(self, backends: set[int]) -> None:
        self.ours = {os.getpid(), *backends}
        self.before = _processes()
        self.t0 = time.monotonic()

    @classmethod
    async def start(cls, conn: psycopg.AsyncConnection[Any], database: str) -> Others:
        return cls(await _our_backends(conn, database))

    def _is_ours(self, pid: int, cmdline: str) -> bool:
        if pid in self.ours:
            return True
        match = PARALLEL.search(cmdline)
        return bool(match and int(match.group(1)) in self.ours)

    def cores(self) -> float:
        wall = time.monotonic() - self.t0
        used = 0.0
        for pid, (cpu, started, cmdline) in _processes().items():
            if self._is_ours(pid, cmdline):
                continue
            earlier = self.before.get(pid)
            used += cpu - earlier[0] if earlier and earlier[1] == started else cpu
        return max(0.0, used) / wall if wall else 0.0


async def other_cores(conn: psycopg.AsyncConnection[Any], database: str,
                      seconds: float = 1.0) -> float:
    """Cores used by others over ``seconds``."""
    others = await Others.start(conn, database)
    await asyncio.sleep(seconds)
    return others.cores()


async def wait_for_quiet(conn: psycopg.AsyncConnection[Any], database: str, max_wait_s: float,
                         *, below_cores: float = 0.25, log: Any = print) -> float:
    """Wait (up to ``max_wait_s``) until others use less than ``below_cores``; return the
    last measurement."""
    deadline = time.monotonic() + max_wait_s
    told = False
    while True:
        cores = await other_cores(conn, database)
        if cores < below_cores or time.monotonic() >= deadline:
            return cores
        if not told:
            log(f"other processes use {cores:.2f} cores; waiting up to {max_wait_s:.0f} s")
            told = True
