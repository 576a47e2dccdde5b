"""Retention (FR-DATA-001..003): what the purge jobs remove, and how they account for it.

Two scheduled jobs, both idempotent, batched and safe to run from any number of workers:

- ``purge_deleted`` hard-deletes what has been in the trash longer than the 7-day restore
  window (rooms, agents, direct chats, files) with everything that belongs to it;
- ``purge_expired_content`` removes chat and file data older than the retention window
  (``PANTHEON_RETENTION_DAYS``, default 90): turns with their steps and events, files, the
  conversations left empty, and the conversation summaries written from purged turns.

Billing and usage records stay: the credit ledger, wallets, ``llm_call_events``,
``tool_call_events``, ``file_access_events`` and the usage rollups. They hold ids, counts
and money, not content; the only text they carry (a tool call's argument and result
summaries, its error message) is cleared when its turn is purged.

A purge works on **units** (a room, a turn, …); removing one removes what belongs to it.
Every run reports, per **kind** of row, how many rows went (or, in a dry run, would go) and
how many stored objects and bytes with them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

DEFAULT_RETENTION_DAYS = 90
DEFAULT_BATCH_SIZE = 200
DEFAULT_MAX_BATCHES = 100  # per step and run: a long backlog is finished by the next runs


class PurgeUnit(StrEnum):
    """What a purge selects and removes, with everything that belongs to it."""

    ROOM = "room"  # its agents, sessions, turns (steps, events) and files
    AGENT = "agent"
    ROOM_SESSION = "room_session"  # its turns
    DIRECT_SESSION = "direct_session"  # its turns and files
    TURN = "turn"  # its steps and events; its tool calls' text is cleared
    FILE = "file"  # its stored objects (the original and the extracted text)


class PurgeKind(StrEnum):
    """The rows a purge report counts, one line each."""

    ROOMS = "rooms"
    AGENTS = "agents"
    ROOM_SESSIONS = "room_sessions"
    DIRECT_SESSIONS = "direct_sessions"
    TURNS = "turns"  # the user's messages
    STEPS = "steps"  # the agents' answers
    EVENTS = "events"  # the streamed events of those turns
    FILES = "files"  # rows; their stored objects are counted in ``blobs``/``blob_bytes``
    TOOL_CALL_DETAILS = "tool_call_details"  # usage rows kept, their text cleared
    MEMORIES = "memories"  # conversation summaries cleared
    TOMBSTONES = "tombstones"  # tombstones older than the retention window


@dataclass(frozen=True, slots=True)
class KindTally:
    """Rows of one kind, and the stored objects that go with them (files only)."""

    rows: int = 0
    blobs: int = 0  # objects: each file's original, and its extracted text once parsed
    blob_bytes: int = 0  # the originals' sizes (extracted text is not measured)

    def plus(self, other: KindTally) -> KindTally:
        return KindTally(self.rows + other.rows, self.blobs + other.blobs,
                         self.blob_bytes + other.blob_bytes)

    @property
    def empty(self) -> bool:
        return not (self.rows or self.blobs or self.blob_bytes)


@dataclass(frozen=True, slots=True)
class PurgeTally:
    """Per-kind counts of one purge (or of a whole run: tallies add up)."""

    kinds: Mapping[PurgeKind, KindTally] = field(
        default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(cls, counts: Mapping[PurgeKind, KindTally] | None = None,
           **rows: int) -> PurgeTally:
        """A tally from ``KindTally`` values and/or plain row counts (``turns=3``)."""
        merged = dict(counts or {})
        for name, count in rows.items():
            kind = PurgeKind(name)
            merged[kind] = merged.get(kind, KindTally()).plus(KindTally(rows=count))
        return cls(MappingProxyType({k: v for k, v in merged.items() if not v.empty}))

    def plus(self, other: PurgeTally) -> PurgeTally:
        merged = dict(self.kinds)
        for kind, tally in other.kinds.items():
            merged[kind] = merged.get(kind, KindTally()).plus(tally)
        return PurgeTally.of(merged)

    def of_kind(self, kind: PurgeKind) -> KindTally:
        return self.kinds.get(kind, KindTally())

    def rows(self, kind: PurgeKind) -> int:
        return self.of_kind(kind).rows

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.kinds.values())

    @property
    def blobs(self) -> int:
        return sum(t.blobs for t in self.kinds.values())

    @property
    def blob_bytes(self) -> int:
        return sum(t.blob_bytes for t in self.kinds.values())

    def ordered(self) -> list[tuple[PurgeKind, KindTally]]:
        """Every kind, in the report's order, zeros included."""
        return [(kind, self.of_kind(kind)) for kind in PurgeKind]


def total(tallies: Iterable[PurgeTally]) -> PurgeTally:
    result = PurgeTally()
    for tally in tallies:
        result = result.plus(tally)
    return result


@dataclass(frozen=True, slots=True)
class Candidate:
    """One unit a purge step selected, with the instant it is ordered by (its deletion,
    creation or last activity): ``(at, id)`` is the cursor of the next batch."""

    id: str
    at: datetime

    @property
    def cursor(self) -> tuple[datetime, str]:
        return (self.at, self.id)


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What one run of a purge job removed (or, with ``dry_run``, would remove)."""

    job: str
    dry_run: bool
    cutoff: datetime  # units deleted (or created, or last active) before this instant
    tally: PurgeTally
    blobs_deleted: int = 0  # stored objects actually deleted by this run (queued earlier too)
    complete: bool = True  # False: a step hit its batch cap; the next run continues


@dataclass(frozen=True, slots=True)
class PurgeProgress:
    """Reported after every batch, for a progress display."""

    job: str
    step: str  # the unit (or ``memories``, ``tombstones``, ``blobs``) being purged
    batch: PurgeTally  # this batch
    so_far: PurgeTally  # the job's total until now
    dry_run: bool


ProgressCallback = Callable[[PurgeProgress], None]
