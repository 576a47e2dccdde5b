"""``pantheon serve --workers 2``: ``/metrics`` is the server's, whichever worker answers.

The installed console script runs as a subprocess on a free port of 127.0.0.1 with the
embedded SQLite database. ``TMPDIR`` points into the test's directory, so the private
multiprocess directory the server makes is visible here: its per-process files tell which
workers answered (and their process ids, to stop them). Requests go out on a new connection
each, in parallel, until both workers have counted some; every scrape then reads exactly the
number sent, also after one worker is stopped (SIGTERM: its shutdown drops its live gauges)
and another killed (SIGKILL: the next scrape drops them), each replaced by uvicorn.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from prometheus_client.multiprocess import MultiProcessCollector

from tests.e2e.test_cli_ops import SCRIPT, free_port, script_env, wait_for
from tests.e2e.test_http_metrics import Samples, samples, value

HEALTHZ = {"method": "GET", "route": "/healthz"}
BATCH = 20
DEADLINE_S = 30


@contextmanager
def serving(tmp_path: Path, *workers: str) -> Iterator[tuple[str, Path]]:
    """``pantheon serve [--workers N]`` until the block ends (then SIGTERM: it shuts down);
    its URL and its ``TMPDIR``."""
    port = free_port()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = script_env(tmp_path / "data") | {"TMPDIR": str(tmp), "PANTHEON_LOG_LEVEL": "WARNING",
                                           "PANTHEON_JOBS_IN_PROCESS": "false"}
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        server = subprocess.Popen([str(SCRIPT), "serve", "--port", str(port), *workers],
                                  env=env, stdout=sink, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(f"{url}/readyz", server) == 200, log.read_text()
        yield url, tmp
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    # one process: uvicorn re-raises the SIGTERM it handled once it has shut down
    assert server.returncode in (0, -signal.SIGTERM), log.read_text()


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:  # a new connection each
        response.read()
        return int(response.status)


def scrape(url: str) -> Samples:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        assert response.status == 200
        return samples(response.read().decode())


def healthz_by_worker(shared: Path) -> dict[int, float]:
    """``GET /healthz`` answered, per worker process id, from the workers' own files."""
    counts: dict[int, float] = {}
    for file in shared.glob("counter_*.db"):
        for metric in MultiProcessCollector.merge([str(file)]):
            for sample in metric.samples:
                if sample.name == "pantheon_http_requests_total" and \
                        sample.labels.get("route") == "/healthz":
                    counts[int(file.stem.split("_")[1])] = sample.value
    return counts


def live_workers(shared: Path) -> set[int]:
    """Workers with live-gauge files: started, and not (yet) known to have gone."""
    return {int(file.stem.split("_")[2]) for file in shared.glob("gauge_livesum_*.db")}


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {DEADLINE_S} s"
        time.sleep(0.05)


def settled(shared: Path, sent: int) -> None:
    """Wait until the workers have counted every request sent: a request is counted just
    after its response went out, so the client may see the answer a moment before."""
    until(lambda: sum(healthz_by_worker(shared).values()) == sent, f"counting {sent} requests")


def assert_every_scrape_counts(url: str, sent: int) -> Samples:
    for _ in range(5):
        scraped = scrape(url)
        assert value(scraped, "pantheon_http_requests_total", **HEALTHZ,
                     status_class="2xx") == sent
        assert value(scraped, "pantheon_http_request_duration_seconds_count", **HEALTHZ) == sent
    return scraped


def test_metrics_of_two_workers_are_summed_exactly(tmp_path: Path) -> None:
    with serving(tmp_path, "--workers", "2") as (url, tmp):
        [shared] = tmp.glob("pantheon-metrics-*")
        assert shared.stat().st_mode & 0o777 == 0o700
        sent = 0
        with ThreadPoolExecutor(8) as pool:
            deadline = time.monotonic() + DEADLINE_S
            while len(healthz_by_worker(shared)) < 2:
                assert time.monotonic() < deadline, healthz_by_worker(shared)
                assert set(pool.map(get, [f"{url}/healthz"] * BATCH)) == {200}
                sent += BATCH
        settled(shared, sent)
        scraped = assert_every_scrape_counts(url, sent)
        # in-flight gauges: one series for the server, no per-process copies
        assert value(scraped, "pantheon_turns_active") == 0
        assert value(scraped, "pantheon_streams_active") == 0
        assert not any(name.startswith(("process_", "python_gc")) for name, _ in scraped)

        # a worker stopped: its shutdown takes its live gauges out; its counts stay
        stopped, killed = sorted(healthz_by_worker(shared))
        os.kill(stopped, signal.SIGTERM)
        until(lambda: stopped not in live_workers(shared), "the stopped worker's clean-up")
        until(lambda: len(live_workers(shared)) == 2, "a replacement for the stopped worker")
        assert_every_scrape_counts(url, sent)

        # a worker killed: no shutdown; the next scrape notices and drops its live gauges
        os.kill(killed, signal.SIGKILL)
        until(lambda: _gone(killed), "the killed worker's end")
        assert killed in live_workers(shared)
        assert_every_scrape_counts(url, sent)
        assert killed not in live_workers(shared)

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(get, [f"{url}/healthz"] * BATCH)) == {200}
        settled(shared, sent + BATCH)
        assert_every_scrape_counts(url, sent + BATCH)
    assert not shared.exists()  # removed when the server stopped


def _gone(pid: int) -> bool:
    """Whether ``pid`` has ended and its parent (uvicorn's supervisor) has reaped it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_one_worker_keeps_its_metrics_in_memory(tmp_path: Path) -> None:
    with serving(tmp_path) as (url, tmp):
        for _ in range(3):
            assert get(f"{url}/healthz") == 200
        scraped = scrape(url)
        assert value(scraped, "pantheon_http_requests_total", **HEALTHZ, status_class="2xx") == 3
        assert value(scraped, "process_cpu_seconds_total") is not None
        assert list(tmp.iterdir()) == []  # no multiprocess directory, no files
