"""Repositories: collections of entities, living inside one unit of work.

Rules every implementation keeps (checked by the contract tests in
``tests/integration/test_repository_contract.py``, run on the fake, SQLite and PostgreSQL):

- ``get*`` returns ``None`` for a missing id; no method raises for "not found".
- ``add`` inserts; ``update`` overwrites the stored row with the entity.
- Nothing is visible to other units of work before ``commit``.
- Listings come back in a stable order documented on each method.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from pantheon_core.actor import Role
from pantheon_core.domain.agents import Agent
from pantheon_core.domain.audit import AuditEvent
from pantheon_core.domain.credentials import ApiToken, AuthSession, MagicLink
from pantheon_core.domain.events import TurnEvent
from pantheon_core.domain.files import FileScope, StoredFile
from pantheon_core.domain.jobs import JobRun
from pantheon_core.domain.pricing import PricingVersion
from pantheon_core.domain.retention import Candidate, PurgeTally, PurgeUnit
from pantheon_core.domain.rollups import UsagePage, UsageTotals
from pantheon_core.domain.rooms import Room
from pantheon_core.domain.sessions import DirectSession, RoomSession
from pantheon_core.domain.steps import Step
from pantheon_core.domain.tools import FileAccess, ToolCallRecord
from pantheon_core.domain.trash import PurgeReason, Tombstone, TrashKind
from pantheon_core.domain.turns import Turn
from pantheon_core.domain.usage import LlmCall, UsageGrouping, UsageRow
from pantheon_core.domain.users import User
from pantheon_core.domain.wallets import EntryKind, LedgerEntry, Wallet
from pantheon_core.ids import (
    AgentId,
    ApiTokenId,
    DirectSessionId,
    FileId,
    MagicLinkId,
    RoomId,
    RoomSessionId,
    TurnId,
    UserId,
)


class UserRepository(Protocol):
    async def add(self, user: User) -> None: ...
    async def get(self, user_id: UserId) -> User | None: ...
    async def get_many(self, user_ids: Collection[UserId]) -> Sequence[User]:
        """The users of those ids that exist, in no particular order (one query)."""
        ...
    async def get_by_email(self, email: str) -> User | None: ...
    async def update(self, user: User) -> None: ...
    async def roles_of(self, user_id: UserId) -> frozenset[Role]: ...
    async def get_with_roles(self, user_id: UserId) -> tuple[User, frozenset[Role]] | None:
        """The user and their stored roles in one query (what authenticating a request
        needs), or None."""
        ...
    async def set_role(self, user_id: UserId, role: Role, *, granted: bool,
                       now: datetime) -> None: ...
    async def list_with_roles(self) -> Sequence[tuple[User, frozenset[Role]]]:
        """Users holding at least one stored role, by e-mail."""
        ...
    async def search(self, query: str | None = None, *, after_email: str | None = None,
                     status: str | None = None, limit: int = 50) -> Sequence[User]:
        """Users whose e-mail or display name contains ``query`` (case-insensitive), by
        e-mail, strictly after ``after_email``."""
        ...
    async def find_by_identity(self, provider: str, subject: str) -> User | None: ...
    async def link_identity(self, user_id: UserId, provider: str, subject: str,
                            now: datetime) -> None: ...


class RoomRepository(Protocol):
    async def add(self, room: Room) -> None: ...
    async def get(self, room_id: RoomId, *, for_update: bool = False) -> Room | None:
        """``for_update`` locks the row until commit where the database can (PostgreSQL)."""
        ...
    async def list_for_owner(self, owner_id: UserId, *, deleted: bool) -> Sequence[Room]:
        """Live rooms (or, with ``deleted``, soft-deleted ones), most recently updated first."""
        ...
    async def update(self, room: Room) -> None: ...


class AgentRepository(Protocol):
    async def add(self, agent: Agent) -> None: ...
    async def get(self, agent_id: AgentId) -> Agent | None: ...
    async def list_active(self, room_id: RoomId) -> Sequence[Agent]:
        """The room's agents that are not deleted, by position."""
        ...
    async def list_deleted(self, room_id: RoomId) -> Sequence[Agent]:
        """The room's soft-deleted agents, most recently deleted first (ties by id,
        descending)."""
        ...
    async def update(self, agent: Agent) -> None: ...


class TurnRepository(Protocol):
    async def add(self, turn: Turn) -> None: ...
    async def get(self, turn_id: TurnId, *, for_update: bool = False) -> Turn | None: ...
    async def list_for_room(self, room_id: RoomId, *, limit: int) -> Sequence[Turn]:
        """Newest first."""
        ...
    async def list_for_conversation(self, *, session_id: RoomSessionId | None = None,
                                    direct_session_id: DirectSessionId | None = None,
                                    limit: int, before: datetime | None = None,
                                    after: datetime | None = None) -> Sequence[Turn]:
        """Turns of one room session or direct session created strictly between ``after``
        and ``before`` (either may be None), newest first."""
        ...
    async def touch(self, turn_id: TurnId, *, last_seq: int,
                    heartbeat_at: datetime) -> Turn | None:
        """Set only ``last_seq`` and ``heartbeat_at`` (so a concurrent cancel request is
        never overwritten) and return the stored turn afterwards."""
        ...
    async def list_running_for_user(self, user_id: UserId) -> Sequence[Turn]:
        """The user's turns still ``running``, oldest first."""
        ...
    async def list_stale(self, *, heartbeat_before: datetime) -> Sequence[Turn]:
        """Running turns whose heartbeat (or creation, if none) is older than the bound."""
        ...
    async def update(self, turn: Turn) -> None: ...


class StepRepository(Protocol):
    async def add(self, step: Step) -> None: ...
    async def update(self, step: Step) -> None: ...
    async def list_for_turns(self, turn_ids: Sequence[TurnId]) -> Sequence[Step]:
        """Steps of these turns, by turn then index."""
        ...


class EventRepository(Protocol):
    async def append(self, events: Sequence[TurnEvent], *, alone: bool = False) -> None:
        """Store events; a (turn_id, seq) pair is stored at most once (a clash is an error).

        ``alone``: the caller promises this is its unit of work's only write, so an adapter
        may store the batch at once, as a transaction of its own (committing the unit of
        work is then a no-op for it) — one round trip, where BEGIN and COMMIT make three.
        """
        ...
    async def list_after(self, turn_id: TurnId, *, after: int,
                         limit: int = 10_000) -> Sequence[TurnEvent]:
        """Events with ``seq > after``, by seq."""
        ...


class UsageRepository(Protocol):
    async def add(self, call: LlmCall) -> None: ...
    async def list_for_turn(self, turn_id: TurnId) -> Sequence[LlmCall]:
        """By creation time."""
        ...
    async def list_between(self, start: datetime, end: datetime, *,
                           user_id: UserId | None = None, after: tuple[datetime, str] | None = None,
                           limit: int = 1000) -> Sequence[LlmCall]:
        """Rows created in ``[start, end)`` (of one user, if given), by (created_at, id),
        strictly after the ``after`` cursor (for batches)."""
        ...
    async def sums_for_user(self, user_id: UserId, start: datetime, end: datetime, *,
                            by: UsageGrouping) -> Sequence[UsageRow]:
        """The user's calls created in ``[start, end)`` summed per ``model`` (the model alias,
        or the provider's model id where the alias is empty) or per UTC ``day``
        (``YYYY-MM-DD``): calls, tokens, and exact credits and provider cost, in one query.
        By key, in code-point order; no calls, no rows."""
        ...


class SessionRepository(Protocol):
    async def add_room_session(self, session: RoomSession) -> None: ...
    async def get_room_session(self, session_id: RoomSessionId) -> RoomSession | None: ...
    async def latest_room_session(self, room_id: RoomId) -> RoomSession | None:
        """The most recently created session of the room."""
        ...
    async def list_room_sessions(self, room_id: RoomId, *, limit: int) -> Sequence[RoomSession]:
        """Newest first."""
        ...
    async def update_room_session(self, session: RoomSession) -> None: ...
    async def add_direct_session(self, session: DirectSession) -> None: ...
    async def get_direct_session(self, session_id: DirectSessionId) -> DirectSession | None: ...
    async def list_direct_sessions(self, user_id: UserId, *,
                                   deleted: bool = False) -> Sequence[DirectSession]:
        """Not deleted (or, with ``deleted``, soft-deleted ones), most recently updated first."""
        ...
    async def update_direct_session(self, session: DirectSession) -> None: ...


class PricingRepository(Protocol):
    async def current(self) -> PricingVersion:
        """The pricing version in force, with its model prices (seeded by a migration)."""
        ...
    async def get(self, version: str) -> PricingVersion | None:
        """Any version, current or past, with its model prices."""
        ...


class AppSettingRepository(Protocol):
    """Product-wide settings admins change at run time (e.g. the orchestrator manager model)."""

    async def get(self, key: str) -> str | None: ...
    async def put(self, key: str, value: str, *, now: datetime) -> None: ...
    async def swap(self, key: str, expected: str | None, value: str, *,
                   now: datetime) -> bool:
        """Set ``key`` to ``value`` only if it still holds ``expected`` (None: absent);
        whether it did. Of concurrent swaps from one value, exactly one wins."""
        ...


class CredentialRepository(Protocol):
    async def add_magic_link(self, link: MagicLink) -> None: ...
    async def get_magic_link(self, token_hash: str) -> MagicLink | None: ...
    async def consume_magic_link(self, link_id: MagicLinkId, now: datetime) -> bool:
        """Mark the link used if it is still unused; ``False`` if another caller won the race."""
        ...
    async def add_session(self, session: AuthSession) -> None: ...
    async def get_session(self, token_hash: str) -> AuthSession | None: ...
    async def get_session_with_user(
            self, token_hash: str) -> tuple[AuthSession, User | None, frozenset[Role]] | None:
        """The session of this hash with its user (None if the account is gone) and the
        user's stored roles, in one query (what authenticating a request needs); None when
        no session has this hash. Revoked and expired sessions are returned too."""
        ...
    async def update_session(self, session: AuthSession) -> None: ...
    async def add_api_token(self, token: ApiToken) -> None: ...
    async def get_api_token(self, token_id: ApiTokenId) -> ApiToken | None: ...
    async def get_api_token_with_user(
            self, token_hash: str) -> tuple[ApiToken, User | None, frozenset[Role]] | None:
        """The token of this hash with its user (None if the account is gone) and the user's
        stored roles, in one query (what authenticating a request needs); None when no token
        has this hash. Revoked and expired tokens are returned too."""
        ...
    async def list_api_tokens(self, user_id: UserId) -> Sequence[ApiToken]:
        """Newest first, revoked ones included."""
        ...
    async def update_api_token(self, token: ApiToken) -> None: ...
    async def purge_expired(self, now: datetime) -> int:
        """Delete used or expired magic links and expired sessions; returns how many rows went."""
        ...


class FileRepository(Protocol):
    async def add(self, file: StoredFile) -> None: ...
    async def get(self, file_id: FileId, *, for_update: bool = False) -> StoredFile | None:
        """``for_update`` locks the row until commit where the database can (PostgreSQL)."""
        ...
    async def list_for_scope(self, scope: FileScope, *, deleted: bool = False,
                             limit: int = 500) -> Sequence[StoredFile]:
        """Live files of the scope (or, with ``deleted``, soft-deleted ones), newest first."""
        ...
    async def list_by_status(self, statuses: Sequence[str], *,
                             limit: int = 500) -> Sequence[StoredFile]:
        """Live files in any of these statuses, oldest first (for re-queueing stuck parses)."""
        ...
    async def lock_scope(self, scope: FileScope) -> None:
        """Serialise quota checks of one scope until commit: locks the room (or direct
        session) row on PostgreSQL; on SQLite, begins the transaction as the writer."""
        ...
    async def bytes_used(self, scope: FileScope) -> int:
        """The sizes of the scope's files that are not soft-deleted, summed."""
        ...
    async def update(self, file: StoredFile) -> None: ...


Cursor = tuple[datetime, str]


class RetentionRepository(Protocol):
    """Selecting and hard-deleting what retention removes (FR-DATA-001..003).

    Selections return :class:`Candidate` units oldest first by ``(at, id)``, strictly after
    the ``after`` cursor, at most ``limit``. With ``lock`` the selected rows stay locked
    until the unit of work ends and rows another unit of work holds are skipped
    (PostgreSQL ``FOR UPDATE SKIP LOCKED``; SQLite begins the transaction as its single
    writer), so concurrent purgers take disjoint batches.

    ``purge`` removes units with everything that belongs to them (see
    :class:`~pantheon_core.domain.retention.PurgeUnit`) and, in the same transaction, queues
    the stored objects of the files it removes (:meth:`queued_blobs`), clears the text of the
    tool-call records of the turns it removes, and leaves a tombstone for every room, agent,
    direct session or file it removes that was in the trash. Units already gone are skipped.
    ``measure`` counts exactly what ``purge`` would remove now and changes nothing. Usage
    and billing rows are never deleted.
    """

    async def deleted_before(self, unit: PurgeUnit, bound: datetime, *, after: Cursor | None,
                             limit: int, lock: bool) -> Sequence[Candidate]:
        """Rooms, agents, direct sessions or files soft-deleted before ``bound`` (``at`` is
        ``deleted_at``), except those whose room or direct session was itself deleted before
        ``bound``: they go with it."""
        ...
    async def expired_before(self, unit: PurgeUnit, bound: datetime, *, after: Cursor | None,
                             limit: int, lock: bool) -> Sequence[Candidate]:
        """Turns and files created before ``bound`` (``at`` is ``created_at``); room sessions,
        and direct sessions not in the trash, last active before ``bound`` (``at`` is
        ``updated_at``) with no turn (and, for a direct session, no file) created from
        ``bound`` on."""
        ...
    async def stale_memories(self, unit: PurgeUnit, bound: datetime, *, after: Cursor | None,
                             limit: int, lock: bool) -> Sequence[Candidate]:
        """Room or direct sessions holding a memory summary and a turn created before
        ``bound`` (``at`` is the session's ``created_at``)."""
        ...
    async def clear_memories(self, unit: PurgeUnit, ids: Sequence[str]) -> int:
        """Empty the memory summary of these room or direct sessions; how many had one."""
        ...
    async def measure(self, unit: PurgeUnit, ids: Sequence[str]) -> PurgeTally: ...
    async def purge(self, unit: PurgeUnit, ids: Sequence[str], *, now: datetime,
                    reason: PurgeReason) -> PurgeTally: ...
    async def queued_blobs(self, *, limit: int) -> Sequence[str]:
        """Storage keys waiting to be deleted, oldest first (ties by key)."""
        ...
    async def forget_blobs(self, keys: Sequence[str]) -> None:
        """Take these keys off the queue (their objects are deleted)."""
        ...
    async def tombstone(self, kind: TrashKind, ref: str) -> Tombstone | None: ...
    async def count_tombstones(self, *, purged_before: datetime) -> int: ...
    async def drop_tombstones(self, *, purged_before: datetime) -> int:
        """Delete the tombstones of purges before the bound; how many went."""
        ...


class JobRunRepository(Protocol):
    async def add(self, run: JobRun) -> None: ...
    async def update(self, run: JobRun) -> None: ...
    async def list_for_message(self, message_id: str) -> Sequence[JobRun]:
        """Every attempt of one queued job, by attempt then start time."""
        ...
    async def list_recent(self, *, name: str | None = None, status: str | None = None,
                          limit: int = 100) -> Sequence[JobRun]:
        """Newest first."""
        ...


class ToolUsageRepository(Protocol):
    """Telemetry of tool calls and file reads (FR-TOOL-007). Append-only."""

    async def add_call(self, record: ToolCallRecord) -> None: ...
    async def add_file_access(self, access: FileAccess) -> None: ...
    async def calls_for_turn(self, turn_id: TurnId) -> Sequence[ToolCallRecord]:
        """By creation time, then round."""
        ...
    async def file_accesses_for_turn(self, turn_id: TurnId) -> Sequence[FileAccess]:
        """By creation time."""
        ...


class WalletRepository(Protocol):
    async def get(self, user_id: UserId, *, for_update: bool = False) -> Wallet | None:
        """``for_update`` locks the wallet until commit (PostgreSQL ``FOR UPDATE``; SQLite
        begins as the writer), so reservations of one wallet never interleave."""
        ...
    async def add(self, wallet: Wallet) -> None: ...
    async def update(self, wallet: Wallet) -> None: ...
    async def find_by_customer(self, stripe_customer_id: str) -> Wallet | None: ...
    async def list_all(self, *, after: UserId | None = None,
                       limit: int = 500) -> Sequence[Wallet]:
        """By user id, strictly after ``after`` (for batch jobs)."""
        ...


class LedgerRepository(Protocol):
    """``credit_transactions``: append-only. No update, no delete."""

    async def append(self, entries: Sequence[LedgerEntry]) -> None:
        """Insert; an idempotency key is stored at most once (a clash is an error, raised as
        ``Conflict(code="duplicate_ledger_entry")``)."""
        ...
    async def has_key(self, idempotency_key: str) -> bool: ...
    async def list_for_user(self, user_id: UserId, *, limit: int = 50,
                            before: tuple[datetime, str] | None = None,
                            kinds: Sequence[EntryKind] | None = None) -> Sequence[LedgerEntry]:
        """Newest first (created_at, then id), strictly before the ``(created_at, id)``
        cursor ``before`` (entries of one change share a timestamp)."""
        ...
    async def all_for_user(self, user_id: UserId) -> Sequence[LedgerEntry]:
        """Oldest first (created_at, then id)."""
        ...
    async def reservation(self, reservation_id: str) -> Sequence[LedgerEntry]:
        """Every entry of one reservation (its holds and, once settled, its releases)."""
        ...
    async def open_reservations(self, *, older_than: datetime) -> Sequence[LedgerEntry]:
        """``reserve`` entries made before ``older_than`` with no ``release`` of the same
        reservation, oldest first."""
        ...
    async def burned_between(self, user_id: UserId, start: datetime, end: datetime) -> Decimal:
        """Credits burned (a positive number) in ``[start, end)``."""
        ...
    async def held_for_user(self, user_id: UserId, *, since: datetime) -> Decimal:
        """Credits (a positive number) still held by the user's ``reserve`` entries made at or
        after ``since`` whose reservation has no ``release`` yet."""
        ...
    async def burned_and_held(self, user_id: UserId, *, start: datetime, end: datetime,
                              held_since: datetime) -> tuple[Decimal, Decimal]:
        """``burned_between(user_id, start, end)`` and ``held_for_user(user_id,
        since=held_since)`` in one query (what the wallet page shows)."""
        ...


class PaymentEventRepository(Protocol):
    async def claim(self, event_id: str, *, kind: str, now: datetime) -> bool:
        """Record that this provider event is being processed in this transaction; ``False``
        if it was already recorded (a duplicate delivery). Concurrent claims of one id: one
        wins, the other waits for it and then gets ``False`` (or fails its transaction)."""
        ...


class AuditRepository(Protocol):
    """``audit_events``: append-only (the database refuses UPDATE and DELETE)."""

    async def add(self, event: AuditEvent) -> None: ...
    async def list(self, *, actor: str | None = None, action: str | None = None,
                   target: str | None = None, outcome: str | None = None,
                   since: datetime | None = None, until: datetime | None = None,
                   before: tuple[datetime, str] | None = None,
                   limit: int = 100) -> Sequence[AuditEvent]:
        """Newest first (created_at, then id), strictly before the ``before`` cursor.
        ``actor`` matches the actor's id or label exactly (case-insensitive label);
        ``action`` matches a prefix (``admin.`` finds every admin action); ``target`` matches
        exactly, case-insensitively; ``since`` inclusive, ``until`` exclusive."""
        ...


class RollupRepository(Protocol):
    """Usage rollups (FR-ADMIN-002). Days are UTC dates; ranges are ``[start, end)``.

    ``usage_rollups_daily`` (day, user, model alias), ``usage_rollups_monthly`` (first day
    of the month, user, model alias) and ``user_activity_daily`` (day, user: calls, credits).

    Every usage event is *recorded* at an instant of the store's own clock when it is written
    (whatever its ``created_at``); a watermark is such an instant. ``recorded_from`` /
    ``recorded_before`` select events by it; days and ranges always by ``created_at``.
    """

    async def ingest_mark(self, *, lag: timedelta) -> datetime:
        """An instant on the recording clock before which every event is written and
        committed: the store's now less ``lag`` (the longest a write may take to commit)."""
        ...
    async def rebuild_days(self, start: date, end: date, *,
                           recorded_before: datetime | None = None) -> int:
        """Recompute the daily rollups and the daily activity of every day in ``[start, end)``
        from the ``llm_call_events`` recorded before ``recorded_before`` (all when None) —
        replace, not add: safe to re-run. Returns rows written."""
        ...
    async def add_events(self, recorded_from: datetime, recorded_before: datetime) -> int:
        """Add the events recorded in ``[recorded_from, recorded_before)`` to the daily and
        monthly rollups and the daily activity of their days (an upsert that adds). Not
        idempotent on its own: the caller moves the watermark across that interval in the
        same transaction. Returns daily rows touched."""
        ...
    async def first_event_day(self) -> date | None:
        """The UTC day of the oldest usage event, or None when there is none."""
        ...
    async def rebuild_months(self, start: date, end: date) -> int:
        """Recompute the monthly rollups of the months whose first day is in ``[start, end)``
        from the daily rollups. Returns rows written."""
        ...
    async def usage(self, start: date, end: date, *, by: Sequence[str],
                    watermark: datetime | None, user_id: UserId | None = None,
                    order_by: str = "credits", limit: int | None = None,
                    offset: int = 0) -> UsagePage:
        """Exact sums over the days ``[start, end)`` grouped by ``by``: the rollups of those
        days (unless ``watermark`` is None: nothing rolled up yet) plus their raw events
        recorded from ``watermark`` on — merged, ordered (``credits``, ``cost`` or ``tokens``
        descending, ties by the group key; or ``key``: by the group key) and paged in the
        store, so only the page travels. The page's ``groups`` and ``total`` cover them all."""
        ...
    async def totals(self, start: date, end: date, *, by: Sequence[str],
                     user_id: UserId | None = None, order_by: str | None = None,
                     limit: int | None = None) -> Sequence[UsageTotals]:
        """Sums over the rolled days in ``[start, end)``, grouped by ``by`` (a subset of
        ``user``, ``model``, ``day``, ``month``; the others are None). ``order_by``:
        ``credits``, ``cost`` or ``tokens``, descending, ties by the group key; else by the
        group key. Reads the monthly table when the range is whole months and no ``day``
        grouping is asked, the daily table otherwise."""
        ...
    async def raw_totals(self, start: datetime, end: datetime, *, by: Sequence[str],
                         user_id: UserId | None = None,
                         recorded_from: datetime | None = None) -> Sequence[UsageTotals]:
        """The same sums straight from the ``llm_call_events`` created in ``[start, end)``
        and recorded from ``recorded_from`` on (the events not rolled up yet: a bounded scan
        of the most recent rows)."""
        ...
    async def active_users(self, start: date, end: date) -> Sequence[UserId]:
        """Distinct users with activity on a rolled day in ``[start, end)``."""
        ...
    async def raw_active_users(self, start: datetime, end: datetime) -> Sequence[UserId]:
        """Distinct users with a usage event in ``[start, end)``."""
        ...
    async def raw_activity(self, start: datetime, end: datetime, *,
                           recorded_from: datetime | None = None
                           ) -> Sequence[tuple[date, UserId]]:
        """Distinct (UTC day, user) pairs of the usage events created in ``[start, end)`` and
        recorded from ``recorded_from`` on."""
        ...
    async def active_counts(self, start: date, end: date,
                            bucket: str) -> Sequence[tuple[date, int]]:
        """Distinct active users per ``day``, ISO ``week`` (Monday) or ``month`` bucket of the
        rolled days in ``[start, end)``, by bucket; buckets without activity are omitted."""
        ...
