from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """The current time, always timezone-aware UTC. Tests drive it with a fake."""

    def now(self) -> datetime: ...
