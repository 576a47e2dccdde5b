from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol


class BackgroundTasks(Protocol):
    """Runs work that must outlive the request that started it (a turn keeps running
    when its client disconnects). ``spawn`` returns at once; failures are the task's
    own business (the turn runner records them)."""

    def spawn(self, name: str, work: Callable[[], Awaitable[None]]) -> None: ...
