"""Where the server's CPU goes: py-spy's collapsed stacks, summed by frame and by layer.

``--profile`` records the Pantheon server (all its workers) with ``py-spy record --format
raw`` (on-CPU samples only) during its phases. py-spy comes from ``bench/.venv``
(installed there on first use with pip; never a dependency of the product). This module
reads the collapsed stacks (``frame;frame;… count`` per line) and reports:

- *self*: the frames the samples were in (leaves), summed;
- *inclusive*: for each frame, the samples with it anywhere on the stack;
- *layers*: the share of samples whose innermost frame from a known package is in each
  (uvicorn, starlette/fastapi, pydantic, sqlalchemy, psycopg, pantheon_*, asyncio…).

    python -m bench.api_load.profile bench/results/profiles/<file>.txt
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.stream_overhead import procs

LAYERS = (("pantheon_http", "pantheon_http"), ("pantheon_core", "pantheon_core"),
          ("pantheon_adapters", "pantheon_adapters"), ("sqlalchemy", "sqlalchemy"),
          ("psycopg", "psycopg"), ("pydantic", "pydantic"), ("fastapi", "fastapi"),
          ("starlette", "starlette"), ("uvicorn", "uvicorn"), ("httptools", "uvicorn"),
          ("uvloop", "event loop"), ("asyncio", "event loop"), ("greenlet", "sqlalchemy"),
          ("json", "json"), ("logging", "logging"))
PROCESS = re.compile(r'^(process \d+:"[^"]*";?)+')
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:]+)(?::\d+)?\)$")


def ensure_py_spy(venv: Path) -> Path:
    """``venv``/bin/py-spy, installing it (and the venv) with pip on first use."""
    exe = venv / "bin" / "py-spy"
    if exe.exists():
        return exe
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", "-q",  # noqa: S603
                    "install", "py-spy"], check=True)
    return exe


class Recording:
    """py-spy attached to one server process tree until :meth:`stop`."""

    def __init__(self, ps: procs.Processes, exe: Path, pid: int, out: Path,
                 env: dict[str, str], extra: str = "") -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        self.ps, self.out = ps, out
        self.child = ps.start(f"py-spy-{out.stem}", [
            str(exe), "record", "--pid", str(pid), "--rate", "250", "--format", "raw",
            "--output", str(out), "--nonblocking", "--subprocesses", *extra.split()], env=env)

    def stop(self) -> None:
        self.ps.stop(self.child, grace_s=20.0)  # SIGINT: py-spy writes what it recorded


def _frames(stack: str) -> list[str]:
    return [f for f in stack.split(";") if f]


def _module(frame: str) -> str:
    match = FRAME.match(frame)
    return match.group("file") if match else frame


def _short(frame: str) -> str:
    match = FRAME.match(frame)
    if not match:
        return frame
    path = match.group("file")
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match.group('func')} ({path})"


def _layer(frames: list[str]) -> str:
    for frame in reversed(frames):
        module = _module(frame)
        for needle, layer in LAYERS:
            if f"/{needle}/" in module or module.startswith(needle) or f"{needle}." in module:
                return layer
    return "other"


def summarise(path: Path, top: int = 25) -> dict[str, object]:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        with contextlib.suppress(ValueError):
            count = int(count_text)
            # 'process PID:"command line";' for the server and again for each worker
            frames = _frames(PROCESS.sub("", stack))
            if not frames:
                continue
            total += count
            own[_short(frames[-1])] += count
            for frame in set(frames):
                inclusive[_short(frame)] += count
            layers[_layer(frames)] += count

    def share(counter: Counter[str], n: int) -> list[tuple[str, float]]:
        return [(k, round(100 * v / total, 1)) for k, v in counter.most_common(n)] if total else []

    ours = Counter({k: v for k, v in inclusive.items() if "pantheon_" in k})
    return {"samples": total, "layers_pct": share(layers, 20), "self_pct": share(own, top),
            "inclusive_pantheon_pct": share(ours, top)}


def render(summary: dict[str, object]) -> str:
    lines = [f"{summary['samples']} samples"]
    for key, title in (("layers_pct", "innermost known layer"), ("self_pct", "self (leaf)"),
                       ("inclusive_pantheon_pct", "inclusive, Pantheon's own frames")):
        lines.append(f"-- {title}:")
        lines += [f"{pct:6.1f}%  {name}" for name, pct in summary[key]]  # type: ignore[attr-defined]
    return "\n".join(lines)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(f"== {arg}")
        print(render(summarise(Path(arg))))
