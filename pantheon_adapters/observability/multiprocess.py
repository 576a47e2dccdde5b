"""Metrics of a server that runs several processes behind one port (``pantheon serve --workers N``).

Each uvicorn worker is a process of its own; a scrape is answered by whichever one the kernel
hands the connection to. prometheus_client's multiprocess mode makes the answer whole: every
process writes its counters, histograms and gauges to memory-mapped files (one per kind and
process id) in the directory named by ``PROMETHEUS_MULTIPROC_DIR``, and ``/metrics`` merges
the files of all of them into a fresh registry.

prometheus_client decides where values live when it is first imported, so the variable must be
in a process's environment before that. :func:`shared_metrics_dir` sets it in ``pantheon
serve``'s own environment before uvicorn starts the workers; uvicorn *spawns* them (a fresh
interpreter that inherits the environment, never a fork of an interpreter that already imported
prometheus_client), and our modules import prometheus_client only when the app factory makes
the process's :class:`~pantheon_adapters.observability.metrics.Metrics`.

With one process nothing here is used: no variable, no directory, no files.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from prometheus_client import CollectorRegistry, generate_latest, values
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

log = logging.getLogger("pantheon.metrics")

MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
DIR_PREFIX: Final = "pantheon-metrics-"
# Files of gauges whose multiprocess mode starts with "live" (``gauge_livesum_<pid>.db``):
# they describe what a process is doing now, and go when it does.
LIVE_GAUGE_FILES: Final = "gauge_live*_*.db"


@contextlib.contextmanager
def shared_metrics_dir(processes: int) -> Iterator[Path | None]:
    """For ``processes > 1``: a new, empty, private directory (mode 0700, under ``TMPDIR``)
    named in ``PROMETHEUS_MULTIPROC_DIR`` while the block runs, for the processes started
    in it; removed with its files afterwards. For one process: ``None``, and nothing set."""
    if processes <= 1:
        yield None
        return
    path = Path(tempfile.mkdtemp(prefix=DIR_PREFIX))
    previous = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = str(path)
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = previous
        shutil.rmtree(path, ignore_errors=True)


def multiprocess_dir() -> Path | None:
    """The directory this process's metric values are written to, or ``None`` when they
    live in its memory (the default)."""
    raw = os.environ.get(MULTIPROC_ENV)
    if not raw:
        return None
    if not values.ValueClass._multiprocess:
        # set after prometheus_client was imported: this process's values are in memory,
        # and merging the directory would leave them out
        log.warning("%s was set after prometheus_client was imported; this process's "
                    "metrics are its own", MULTIPROC_ENV)
        return None
    return Path(raw)


def shared_exposition(path: Path, *extra: Collector) -> bytes:
    """Every process's metrics in ``path``, merged, and ``extra`` (collectors read at scrape
    time by this process alone), in the Prometheus text format."""
    forget_dead_processes(path)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(path))  # type: ignore[no-untyped-call]
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)


def process_exited(path: Path, pid: int | None = None) -> None:
    """``pid`` (default: this process) no longer runs: its live gauges leave the sums.
    Its counters and histograms stay, so the server's totals never go down."""
    with contextlib.suppress(FileNotFoundError):  # a concurrent scrape removed them first
        mark_process_dead(os.getpid() if pid is None else pid,  # type: ignore[no-untyped-call]
                          str(path))


def forget_dead_processes(path: Path) -> None:
    """:func:`process_exited` for every process that left live gauges but did not say so
    (killed, out of memory): uvicorn replaces it under a new id, and what it had running
    ended with it."""
    for file in path.glob(LIVE_GAUGE_FILES):
        pid = file.stem.rpartition("_")[2]
        if pid.isdigit() and not _alive(int(pid)):
            process_exited(path, int(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # no signal sent: only whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, under another user
    return True
