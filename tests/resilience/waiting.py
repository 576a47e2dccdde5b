"""Polling with a deadline, for state another process or task is changing."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

T = TypeVar("T")


async def until(condition: Callable[[], Awaitable[T]], *, what: str, timeout_s: float = 30,
                every_s: float = 0.05) -> T:
    """The first truthy value of ``condition()``, polled every ``every_s``; an
    ``AssertionError`` naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s} s")
        await anyio.sleep(every_s)
