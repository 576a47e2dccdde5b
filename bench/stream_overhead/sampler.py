"""CPU time and memory of a server process tree, read from /proc (no psutil needed).

CPU: ``utime + stime`` of the process and its live descendants (``/proc/<pid>/stat``),
before and after a level. Memory: ``VmRSS`` summed over the tree, sampled every 50 ms by a
thread, plus the kernel's own peak ``VmHWM`` after resetting it (``clear_refs`` = 5) at the
start of the level, so a peak between two samples is not missed.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def tree(pid: int) -> list[int]:
    """``pid`` and every live descendant (via /proc/<pid>/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in task.read_text().split()]
    return found


def cpu_seconds(pid: int) -> float:
    total = 0
    for member in tree(pid):
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path(f"/proc/{member}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / CLK_TCK


def _status_kib(pid: int, key: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def rss_bytes(pid: int) -> int:
    return sum(_status_kib(p, "VmRSS") for p in tree(pid)) * 1024


def hwm_bytes(pid: int) -> int:
    return sum(_status_kib(p, "VmHWM") for p in tree(pid)) * 1024


def reset_hwm(pid: int) -> bool:
    """Reset the kernel's peak-RSS counter of the tree (needs to own the process)."""
    ok = True
    for member in tree(pid):
        try:
            Path(f"/proc/{member}/clear_refs").write_text("5")
        except OSError:
            ok = False
    return ok


@dataclass
class Usage:
    cpu_s: float
    idle_rss: int
    peak_rss: int
    samples: int
    hwm_reset: bool


@dataclass
class Sampler:
    """``with Sampler(pid) as s: …`` then ``s.usage``."""

    pid: int
    interval_s: float = 0.05
    usage: Usage | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _peak: int = 0
    _count: int = 0

    def __enter__(self) -> Sampler:
        self._idle = rss_bytes(self.pid)
        self._reset = reset_hwm(self.pid)
        self._cpu0 = cpu_seconds(self.pid)
        self._peak, self._count = self._idle, 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._peak = max(self._peak, rss_bytes(self.pid))
            self._count += 1

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        cpu = cpu_seconds(self.pid) - self._cpu0
        peak = max(self._peak, rss_bytes(self.pid))
        if self._reset:
            peak = max(peak, hwm_bytes(self.pid))
        self.usage = Usage(cpu_s=cpu, idle_rss=self._idle, peak_rss=peak,
                           samples=self._count, hwm_reset=self._reset)


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (``/proc/stat``: all but idle, iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / CLK_TCK


@dataclass
class Foreign:
    """CPU used by processes that are not this benchmark's, over a stretch of time."""

    cpu_s: float
    wall_s: float

    @property
    def cores(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s else 0.0


class ForeignLoad:
    """``with ForeignLoad() as f: …`` then ``f.result``: machine busy time minus ours
    (this process and every process it started)."""

    result: Foreign | None = None

    def __enter__(self) -> ForeignLoad:
        self._t0 = time.monotonic()
        self._busy0 = machine_busy_seconds()
        self._ours0 = cpu_seconds(os.getpid())
        return self

    def __exit__(self, *exc: object) -> None:
        busy = machine_busy_seconds() - self._busy0
        ours = cpu_seconds(os.getpid()) - self._ours0
        self.result = Foreign(max(0.0, busy - ours), time.monotonic() - self._t0)


def wait_for_quiet(max_wait_s: float, *, below_cores: float = 0.25) -> Foreign:
    """Wait (up to ``max_wait_s``) until other processes use less than ``below_cores``
    over one second; return the last measurement."""
    deadline = time.monotonic() + max_wait_s
    told = False
    while True:
        with ForeignLoad() as load:
            time.sleep(1.0)
        assert load.result is not None
        if load.result.cores < below_cores or time.monotonic() >= deadline:
            return load.result
        if not told:
            print(f"bench: other processes use {load.result.cores:.2f} cores; waiting up to "
                  f"{max_wait_s:.0f} s for the machine to calm down…", flush=True)
            told = True
