"""Where and with what the benchmark ran."""

from __future__ import annotations

import contextlib
import importlib.metadata as metadata
import os
import platform
import re
import subprocess
import sys
from pathlib import Path


def machine() -> dict[str, object]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        meminfo = Path("/proc/meminfo").read_text().splitlines()[0]
        mem_gib = round(int(meminfo.split()[1]) / 1024 / 1024, 1)
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
    }


def pantheon_versions() -> dict[str, str | None]:
    """Pantheon and every package it depends on, as installed in the running venv."""
    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    names = ["pantheon"]
    for requirement in metadata.requires("pantheon") or []:
        if "extra ==" in requirement:
            continue
        match = re.match(r"[A-Za-z0-9_.\-]+", requirement)
        if match:
            names.append(match.group(0))
    names += ["starlette", "aiosqlite", "h11", "httptools", "uvloop"]
    return {name: version(name) for name in dict.fromkeys(names)}


def git_commit(repo: Path) -> dict[str, object]:
    """The commit measured and whether the work tree had changes (read-only git calls)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args],  # noqa: S603, S607
                              capture_output=True, text=True, check=False).stdout.strip()

    return {"commit": git("rev-parse", "HEAD") or None,
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def interpreter() -> str:
    return sys.executable
