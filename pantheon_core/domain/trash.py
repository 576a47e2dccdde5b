"""Soft delete and its 7-day restore window (FR-DATA-002), the same for everything users
delete: rooms, agents, direct chats and files.

::

    live ──delete──► in the trash (deleted_at) ──restore, within 7 days──► live
                          │
                          └── after 7 days: purged, rows and blobs, leaving a tombstone

A thing in the trash is hidden everywhere (listings, agents, sends) but its rows and bytes
stay, so a restore brings back exactly what was there. What belongs to it follows it: a
deleted room takes its agents, conversations and files with it into the trash and back.

Once the window has passed, restore answers ``410 restore_window_expired`` for every kind —
before the purge job has run (the row is still there) and after it (a **tombstone** remains:
the kind, the id, the owner and the dates, never any content).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pantheon_core.errors import Conflict, Gone
from pantheon_core.ids import UserId

RESTORE_WINDOW = timedelta(days=7)
RESTORE_WINDOW_EXPIRED = "restore_window_expired"
RETENTION_EXPIRED = "retention_expired"


class TrashKind(StrEnum):
    """What users can delete and restore."""

    ROOM = "room"
    AGENT = "agent"
    DIRECT_SESSION = "direct_session"
    FILE = "file"

    @property
    def label(self) -> str:
        return "direct chat" if self is TrashKind.DIRECT_SESSION else self.value


class PurgeReason(StrEnum):
    """Why something was hard-deleted."""

    GRACE_PERIOD = "grace_period"  # deleted, and not restored within the 7 days
    RETENTION = "retention"  # older than the retention window (FR-DATA-001)


def restorable_until(deleted_at: datetime | None) -> datetime | None:
    """The last instant a restore is accepted; ``None`` when not deleted."""
    return None if deleted_at is None else deleted_at + RESTORE_WINDOW


def check_restorable(kind: TrashKind, ref: str, deleted_at: datetime | None,
                     now: datetime) -> None:
    """Raise unless something of ``kind`` deleted at ``deleted_at`` may be restored ``now``:
    ``Conflict(<kind>_not_deleted)`` when it is not deleted, ``Gone(restore_window_expired)``
    when the 7 days have passed (exactly 7 days is still in time)."""
    until = restorable_until(deleted_at)
    if until is None:
        raise Conflict(f"This {kind.label} is not deleted.", code=f"{kind.value}_not_deleted",
                       details={"kind": kind.value, "ref": ref})
    if now > until:
        raise restore_window_expired(kind, ref, until)


def restore_window_expired(kind: TrashKind, ref: str, until: datetime | None, *,
                           purged: bool = False) -> Gone:
    """The one answer, for every kind, to a restore after the 7-day window."""
    return Gone(f"This {kind.label} was deleted more than 7 days ago and can no longer be "
                "restored.", code=RESTORE_WINDOW_EXPIRED,
                details={"kind": kind.value, "ref": ref,
                         "restorable_until": None if until is None else until.isoformat(),
                         "purged": purged})


@dataclass(frozen=True, slots=True)
class Tombstone:
    """What is left of a purged room, agent, direct chat or file that was in the trash:
    enough to answer a late restore clearly, nothing of its content."""

    kind: TrashKind
    id: str
    owner_id: UserId
    purged_at: datetime
    reason: PurgeReason
    deleted_at: datetime | None = None

    def restore_refused(self) -> Gone:
        """The error a restore of this tombstone's subject answers."""
        if self.reason is PurgeReason.RETENTION:
            return Gone(f"This {self.kind.label} was older than the retention period and its "
                        "data was removed; it can no longer be restored.",
                        code=RETENTION_EXPIRED,
                        details={"kind": self.kind.value, "ref": self.id,
                                 "purged_at": self.purged_at.isoformat()})
        return restore_window_expired(self.kind, self.id, restorable_until(self.deleted_at),
                                      purged=True)
