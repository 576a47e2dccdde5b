"""The room mode state machine (FR-ROOM-003..006), as data plus pure functions.

A room holds ``current_mode`` and ``pending_mode``. Setting a mode writes only
``pending_mode``. At the next send, in the transaction that creates the turn::

    effective    = pending_mode or current_mode
    current_mode = effective
    pending_mode = None

A turn stores its own ``effective`` mode, so later switches never reach it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pantheon_core.errors import InvalidInput


class RoomMode(StrEnum):
    MANUAL = "manual"
    ROUNDTABLE = "roundtable"
    ORCHESTRATOR = "orchestrator"


DEFAULT_MODE = RoomMode.ROUNDTABLE


class TurnMode(StrEnum):
    """The mode a turn ran in: a room mode, or ``direct`` for 1:1 chat."""

    MANUAL = "manual"
    ROUNDTABLE = "roundtable"
    ORCHESTRATOR = "orchestrator"
    DIRECT = "direct"

    @classmethod
    def of(cls, mode: RoomMode) -> TurnMode:
        return cls(mode.value)


def parse_mode(value: str) -> RoomMode:
    """A mode from user input, or ``invalid_mode`` listing the allowed values."""
    try:
        return RoomMode(value.strip().lower())
    except (ValueError, AttributeError):
        allowed = [m.value for m in RoomMode]
        raise InvalidInput(
            f"Unknown mode {value!r}; choose one of {', '.join(allowed)}.",
            code="invalid_mode",
            details={"allowed": allowed},
        ) from None


@dataclass(frozen=True, slots=True)
class ModeState:
    current: RoomMode
    pending: RoomMode | None = None

    def request(self, mode: RoomMode) -> ModeState:
        """Setting a mode only records it as pending (FR-ROOM-004)."""
        return ModeState(current=self.current, pending=mode)

    def resolve_at_send(self) -> tuple[RoomMode, ModeState]:
        """The mode a new turn runs in, and the state the room is left in (FR-ROOM-005)."""
        effective = self.pending or self.current
        return effective, ModeState(current=effective, pending=None)
