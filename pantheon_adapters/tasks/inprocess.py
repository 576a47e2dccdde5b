"""Background work on the running event loop, tracked so shutdown can wait for it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger("pantheon.tasks")


class TaskObserver(Protocol):
    """Told when each task starts and ends (metrics count the running turns)."""

    def task_started(self, name: str) -> None: ...

    def task_finished(self, name: str) -> None: ...


class InProcessTasks:
    """``BackgroundTasks`` as asyncio tasks of this process. ``aclose`` lets running work
    finish for up to ``grace_s`` seconds, then cancels it (a cancelled turn ends itself
    with ``turn_failed``)."""

    def __init__(self, observer: TaskObserver | None = None) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._observer = observer

    def spawn(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        observer = self._observer

        async def guarded() -> None:
            if observer is not None:
                observer.task_started(name)
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception:  # the task's own failure must not vanish silently
                log.exception("background task %s failed", name)
            finally:
                if observer is not None:
                    observer.task_finished(name)

        task = asyncio.get_running_loop().create_task(guarded(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self, grace_s: float = 10.0) -> None:
        if not self._tasks:
            return
        _, pending = await asyncio.wait(list(self._tasks), timeout=grace_s)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
