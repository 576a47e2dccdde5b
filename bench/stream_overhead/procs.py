"""Child processes: start each in its own session, wait until it answers, always stop it.

Every process started here is recorded in a :class:`Processes` set; leaving the ``with``
block (normally, on an exception, on Ctrl-C or SIGTERM) stops each one by its own process
group id: SIGINT first (graceful shutdown), then SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Child:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Processes:
    log_dir: Path
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str], *, env: Mapping[str, str],
              cwd: Path | None = None) -> Child:
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("wb")
        popen = subprocess.Popen(  # noqa: S603 - argv built by the benchmark itself
            list(argv), env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        child = Child(name, popen, log_path)
        self.children.append(child)
        return child

    def stop(self, child: Child, *, grace_s: float = 8.0) -> int | None:
        """Stop ``child`` (and its process group): SIGINT, SIGTERM, then SIGKILL."""
        for sig, wait_s in ((signal.SIGINT, grace_s), (signal.SIGTERM, 3.0),
                            (signal.SIGKILL, 3.0)):
            if not child.alive():
                break
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, sig)  # its own group: start_new_session=True
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.popen.wait(timeout=wait_s)
        # Anything left in the group (workers a child forked) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        if child in self.children:
            self.children.remove(child)
        return child.popen.returncode

    def stop_all(self) -> None:
        for child in reversed(list(self.children)):
            self.stop(child, grace_s=5.0)


@contextlib.contextmanager
def managed(log_dir: Path) -> Iterator[Processes]:
    """A process set that is emptied however the block ends (SIGTERM included)."""
    procs = Processes(log_dir)

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield procs
    finally:
        # A second Ctrl-C during cleanup must not leave children behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            procs.stop_all()
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, previous)


class NotReady(RuntimeError):
    pass


def wait_http(child: Child, url: str, *, timeout_s: float,
              accept: Callable[[httpx.Response], bool] | None = None,
              headers: Mapping[str, str] | None = None) -> httpx.Response:
    """Poll ``url`` until it answers (and ``accept`` likes the answer), or fail loudly."""
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    with httpx.Client(timeout=2.0, headers=dict(headers or {})) as client:
        while time.monotonic() < deadline:
            if not child.alive():
                raise NotReady(f"{child.name} exited with {child.popen.returncode} before "
                               f"it was ready; its log ({child.log_path}) ends with:\n"
                               f"{child.log_tail()}")
            try:
                response = client.get(url)
                if accept is None and response.status_code < 500:
                    return response
                if accept is not None and accept(response):
                    return response
                last = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(0.2)
    raise NotReady(f"{child.name} was not ready at {url} within {timeout_s:.0f} s ({last}); "
                   f"its log ({child.log_path}) ends with:\n{child.log_tail()}")
