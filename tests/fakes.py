"""Fakes for the ports we own: in memory, honest about transactions, asserted on by end state."""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any

from pantheon_adapters.bootstrap import Container, Settings
from pantheon_adapters.events.memory import InProcessTurnEvents
from pantheon_adapters.tasks.inprocess import InProcessTasks
from pantheon_core.actor import Role
from pantheon_core.domain.agents import Agent, name_key
from pantheon_core.domain.audit import AuditEvent
from pantheon_core.domain.credentials import ApiToken, AuthSession, MagicLink
from pantheon_core.domain.events import TurnEvent
from pantheon_core.domain.files import FileScope, StoredFile
from pantheon_core.domain.jobs import JobRun
from pantheon_core.domain.pricing import PricingVersion
from pantheon_core.domain.rollups import UsagePage, UsageTotals, merge
from pantheon_core.domain.rooms import Room
from pantheon_core.domain.sessions import DirectSession, RoomSession
from pantheon_core.domain.steps import Step
from pantheon_core.domain.tools import FileAccess, ToolCallRecord
from pantheon_core.domain.trash import Tombstone
from pantheon_core.domain.turns import Turn, TurnStatus
from pantheon_core.domain.usage import CallStatus, LlmCall, UsageGrouping, UsageRow
from pantheon_core.domain.users import User
from pantheon_core.domain.wallets import ZERO, EntryKind, LedgerEntry, Wallet, credits
from pantheon_core.errors import Conflict
from pantheon_core.ids import (
    AgentId,
    ApiTokenId,
    DirectSessionId,
    FileId,
    JobRunId,
    MagicLinkId,
    RoomId,
    RoomSessionId,
    StepId,
    TurnId,
    UserId,
)
from pantheon_core.ports.mailer import MailMessage
from pantheon_core.ports.rate_limiter import RateDecision, RateLimit
from pantheon_core.usecases.catalog import UseCases
from pantheon_core.usecases.deps import (
    AuthPolicy,
    BillingPolicy,
    Deps,
    EnginePolicy,
    FilePolicy,
    RetentionPolicy,
    ToolPolicy,
)
from tests.fake_chat import FakeChatModel
from tests.fake_retention import FakeRetention
from tests.pricing_seed import SEED_PRICING


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class FakeMailer:
    def __init__(self) -> None:
        self.sent: list[MailMessage] = []

    async def send(self, message: MailMessage) -> None:
        self.sent.append(message)

    def last_link_token(self) -> str:
        link = self.sent[-1].link
        assert link is not None
        return link.rsplit("token=", 1)[1]


class AllowAllLimiter:
    async def hit(self, key: str, rule: RateLimit) -> RateDecision:
        return RateDecision(allowed=True)


@dataclass
class Store:
    """The committed state the fake unit of work reads and replaces on commit."""

    users: dict[UserId, User] = field(default_factory=dict)
    roles: set[tuple[UserId, Role]] = field(default_factory=set)
    identities: dict[tuple[str, str], UserId] = field(default_factory=dict)
    rooms: dict[RoomId, Room] = field(default_factory=dict)
    agents: dict[AgentId, Agent] = field(default_factory=dict)
    turns: dict[TurnId, Turn] = field(default_factory=dict)
    links: dict[MagicLinkId, MagicLink] = field(default_factory=dict)
    sessions: dict[str, AuthSession] = field(default_factory=dict)
    tokens: dict[ApiTokenId, ApiToken] = field(default_factory=dict)
    room_sessions: dict[RoomSessionId, RoomSession] = field(default_factory=dict)
    direct_sessions: dict[DirectSessionId, DirectSession] = field(default_factory=dict)
    steps: dict[StepId, Step] = field(default_factory=dict)
    events: dict[tuple[TurnId, int], TurnEvent] = field(default_factory=dict)
    calls: list[LlmCall] = field(default_factory=list)
    pricing: PricingVersion | None = SEED_PRICING  # what migration 0002 seeds
    past_pricing: list[PricingVersion] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    files: dict[FileId, StoredFile] = field(default_factory=dict)
    job_runs: dict[JobRunId, JobRun] = field(default_factory=dict)
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    file_accesses: list[FileAccess] = field(default_factory=list)
    wallets: dict[UserId, Wallet] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)  # in the order appended
    payment_events: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    audit_events: list[AuditEvent] = field(default_factory=list)  # in the order added
    # usage rollups: (day, user, model) / (first of month, user, model) / (day, user)
    rollups_daily: dict[tuple[date, UserId, str], UsageTotals] = field(default_factory=dict)
    rollups_monthly: dict[tuple[date, UserId, str], UsageTotals] = field(
        default_factory=dict)
    activity: dict[tuple[date, UserId], tuple[int, Decimal]] = field(default_factory=dict)
    # when each usage event was recorded: the fake's ingest clock ticks a microsecond a call
    recorded: dict[str, datetime] = field(default_factory=dict)
    # retention: tombstones by (kind, id); storage keys waiting for deletion -> queued at
    tombstones: dict[tuple[str, str], Tombstone] = field(default_factory=dict)
    blob_purges: dict[str, datetime] = field(default_factory=dict)


class _Users:
    def __init__(self, s: Store) -> None:
        self.s = s

    def _check_email(self, user: User) -> None:
        if any(u.email == user.email and u.id != user.id for u in self.s.users.values()):
            raise Conflict("e-mail taken", code="email_taken")

    async def add(self, user: User) -> None:
        self._check_email(user)
        self.s.users[user.id] = user

    async def get(self, user_id: UserId) -> User | None:
        return self.s.users.get(user_id)

    async def get_many(self, user_ids: Collection[UserId]) -> Sequence[User]:
        return [self.s.users[i] for i in set(user_ids) if i in self.s.users]

    async def get_by_email(self, email: str) -> User | None:
        return next((u for u in self.s.users.values() if u.email == email), None)

    async def update(self, user: User) -> None:
        self._check_email(user)
        self.s.users[user.id] = user

    async def roles_of(self, user_id: UserId) -> frozenset[Role]:
        return frozenset(r for u, r in self.s.roles if u == user_id)

    async def get_with_roles(self, user_id: UserId) -> tuple[User, frozenset[Role]] | None:
        user = self.s.users.get(user_id)
        return None if user is None else (user, await self.roles_of(user_id))

    async def set_role(self, user_id: UserId, role: Role, *, granted: bool, now: datetime) -> None:
        (self.s.roles.add if granted else self.s.roles.discard)((user_id, role))

    async def list_with_roles(self) -> Sequence[tuple[User, frozenset[Role]]]:
        ids = {u for u, _ in self.s.roles}
        users = sorted((self.s.users[i] for i in ids), key=lambda u: u.email)
        return [(u, await self.roles_of(u.id)) for u in users]

    async def search(self, query: str | None = None, *, after_email: str | None = None,
                     status: str | None = None, limit: int = 50) -> Sequence[User]:
        needle = (query or "").lower()
        found = [u for u in self.s.users.values()
                 if (needle in u.email.lower() or needle in (u.display_name or "").lower())
                 and (status is None or u.status.value == status)
                 and (after_email is None or u.email > after_email)]
        return sorted(found, key=lambda u: u.email)[:limit]

    async def find_by_identity(self, provider: str, subject: str) -> User | None:
        uid = self.s.identities.get((provider, subject))
        return None if uid is None else self.s.users.get(uid)

    async def link_identity(self, user_id: UserId, provider: str, subject: str,
                            now: datetime) -> None:
        self.s.identities[(provider, subject)] = user_id


class _Rooms:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def add(self, room: Room) -> None:
        self.s.rooms[room.id] = room

    async def get(self, room_id: RoomId, *, for_update: bool = False) -> Room | None:
        return self.s.rooms.get(room_id)

    async def list_for_owner(self, owner_id: UserId, *, deleted: bool) -> Sequence[Room]:
        rooms = [r for r in self.s.rooms.values()
                 if r.owner_id == owner_id and r.is_deleted == deleted]
        return sorted(rooms, key=lambda r: (r.updated_at, r.id), reverse=True)

    async def update(self, room: Room) -> None:
        self.s.rooms[room.id] = room


class _Agents:
    def __init__(self, s: Store) -> None:
        self.s = s

    def _check_name(self, agent: Agent) -> None:
        if agent.deleted_at is None and any(
            a.room_id == agent.room_id and a.id != agent.id and a.deleted_at is None
            and name_key(a.name) == name_key(agent.name) for a in self.s.agents.values()
        ):
            raise Conflict("name taken", code="duplicate_agent_name")

    async def add(self, agent: Agent) -> None:
        self._check_name(agent)
        self.s.agents[agent.id] = agent

    async def get(self, agent_id: AgentId) -> Agent | None:
        return self.s.agents.get(agent_id)

    async def list_active(self, room_id: RoomId) -> Sequence[Agent]:
        agents = [a for a in self.s.agents.values() if a.room_id == room_id and not a.deleted_at]
        return sorted(agents, key=lambda a: (a.position, a.created_at))

    async def list_deleted(self, room_id: RoomId) -> Sequence[Agent]:
        agents = [a for a in self.s.agents.values() if a.room_id == room_id and a.deleted_at]
        return sorted(agents, key=lambda a: (a.deleted_at, a.id), reverse=True)

    async def update(self, agent: Agent) -> None:
        self._check_name(agent)
        self.s.agents[agent.id] = agent


class _Turns:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def add(self, turn: Turn) -> None:
        self.s.turns[turn.id] = turn

    async def get(self, turn_id: TurnId, *, for_update: bool = False) -> Turn | None:
        return self.s.turns.get(turn_id)

    async def list_for_room(self, room_id: RoomId, *, limit: int) -> Sequence[Turn]:
        turns = [t for t in self.s.turns.values() if t.room_id == room_id]
        return sorted(turns, key=lambda t: (t.created_at, t.id), reverse=True)[:limit]

    async def list_for_conversation(self, *, session_id: RoomSessionId | None = None,
                                    direct_session_id: DirectSessionId | None = None,
                                    limit: int, before: datetime | None = None,
                                    after: datetime | None = None) -> Sequence[Turn]:
        if session_id is None and direct_session_id is None:
            raise ValueError("Name a room session or a direct session.")
        turns = [t for t in self.s.turns.values()
                 if (session_id is None or t.session_id == session_id)
                 and (direct_session_id is None or t.direct_session_id == direct_session_id)
                 and (before is None or t.created_at < before)
                 and (after is None or t.created_at > after)]
        return sorted(turns, key=lambda t: (t.created_at, t.id), reverse=True)[:limit]

    async def touch(self, turn_id: TurnId, *, last_seq: int,
                    heartbeat_at: datetime) -> Turn | None:
        turn = self.s.turns.get(turn_id)
        if turn is None:
            return None
        self.s.turns[turn_id] = replace(turn, last_seq=last_seq, heartbeat_at=heartbeat_at)
        return self.s.turns[turn_id]

    async def list_running_for_user(self, user_id: UserId) -> Sequence[Turn]:
        turns = [t for t in self.s.turns.values()
                 if t.user_id == user_id and t.status is TurnStatus.RUNNING]
        return sorted(turns, key=lambda t: (t.created_at, t.id))

    async def list_stale(self, *, heartbeat_before: datetime) -> Sequence[Turn]:
        turns = [t for t in self.s.turns.values() if t.status is TurnStatus.RUNNING
                 and (t.heartbeat_at or t.created_at) < heartbeat_before]
        return sorted(turns, key=lambda t: (t.created_at, t.id))

    async def update(self, turn: Turn) -> None:
        self.s.turns[turn.id] = turn


class _Steps:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def add(self, step: Step) -> None:
        if any(o.turn_id == step.turn_id and o.index == step.index
               for o in self.s.steps.values()):
            raise Conflict("step index taken", code="duplicate_step")
        self.s.steps[step.id] = step

    async def update(self, step: Step) -> None:
        self.s.steps[step.id] = step

    async def list_for_turns(self, turn_ids: Sequence[TurnId]) -> Sequence[Step]:
        rank = {turn_id: i for i, turn_id in reversed(list(enumerate(turn_ids)))}
        steps = [st for st in self.s.steps.values() if st.turn_id in rank]
        return sorted(steps, key=lambda st: (rank[st.turn_id], st.index))


class _Events:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def append(self, events: Sequence[TurnEvent], *, alone: bool = False) -> None:
        keys = [(e.turn_id, e.seq) for e in events]
        if len(set(keys)) < len(keys) or any(k in self.s.events for k in keys):
            raise Conflict("events already stored", code="duplicate_event")
        self.s.events.update(zip(keys, events, strict=True))

    async def list_after(self, turn_id: TurnId, *, after: int,
                         limit: int = 10_000) -> Sequence[TurnEvent]:
        events = [e for (t, seq), e in self.s.events.items() if t == turn_id and seq > after]
        return sorted(events, key=lambda e: e.seq)[:limit]


class _Usage:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def add(self, call: LlmCall) -> None:
        self.s.calls.append(call)

    async def list_for_turn(self, turn_id: TurnId) -> Sequence[LlmCall]:
        calls = [c for c in self.s.calls if c.turn_id == turn_id]
        return sorted(calls, key=lambda c: (c.created_at, c.attempt, c.id))

    async def list_between(self, start: datetime, end: datetime, *,
                           user_id: UserId | None = None,
                           after: tuple[datetime, str] | None = None,
                           limit: int = 1000) -> Sequence[LlmCall]:
        calls = sorted((c for c in self.s.calls if start <= c.created_at < end
                        and (user_id is None or c.user_id == user_id)),
                       key=lambda c: (c.created_at, c.id))
        if after is not None:
            calls = [c for c in calls if (c.created_at, c.id) > after]
        return calls[:limit]

    async def sums_for_user(self, user_id: UserId, start: datetime, end: datetime, *,
                            by: UsageGrouping) -> Sequence[UsageRow]:
        if by not in ("model", "day"):
            raise ValueError(f"Unknown grouping {by!r}: use 'model' or 'day'.")
        sums: dict[str, UsageRow] = {}
        for c in self.s.calls:
            if c.user_id != user_id or not start <= c.created_at < end:
                continue
            key = (c.model_alias or c.model) if by == "model" else \
                c.created_at.astimezone(UTC).date().isoformat()
            row = sums.get(key, UsageRow(key))
            sums[key] = UsageRow(key, row.calls + 1, row.prompt_tokens + c.prompt_tokens,
                                 row.completion_tokens + c.completion_tokens,
                                 row.cached_tokens + c.cached_tokens,
                                 row.credits + c.credits_burned,
                                 row.provider_cost_usd + c.provider_cost_usd)
        return [sums[key] for key in sorted(sums)]


class _Sessions:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def add_room_session(self, session: RoomSession) -> None:
        self.s.room_sessions[session.id] = session

    async def get_room_session(self, session_id: RoomSessionId) -> RoomSession | None:
        return self.s.room_sessions.get(session_id)

    async def latest_room_session(self, room_id: RoomId) -> RoomSession | None:
        found = await self.list_room_sessions(room_id, limit=1)
        return found[0] if found else None

    async def list_room_sessions(self, room_id: RoomId, *, limit: int) -> Sequence[RoomSession]:
        sessions = [rs for rs in self.s.room_sessions.values() if rs.room_id == room_id]
        return sorted(sessions, key=lambda rs: (rs.created_at, rs.id), reverse=True)[:limit]

    async def update_room_session(self, session: RoomSession) -> None:
        self.s.room_sessions[session.id] = session

    async def add_direct_session(self, session: DirectSession) -> None:
        self.s.direct_sessions[session.id] = session

    async def get_direct_session(self, session_id: DirectSessionId) -> DirectSession | None:
        return self.s.direct_sessions.get(session_id)

    async def list_direct_sessions(self, user_id: UserId, *,
                                   deleted: bool = False) -> Sequence[DirectSession]:
        sessions = [ds for ds in self.s.direct_sessions.values()
                    if ds.user_id == user_id and (ds.deleted_at is not None) == deleted]
        return sorted(sessions, key=lambda ds: (ds.updated_at, ds.id), reverse=True)

    async def update_direct_session(self, session: DirectSession) -> None:
        self.s.direct_sessions[session.id] = session


class _Pricing:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def current(self) -> PricingVersion:
        if self.s.pricing is None:
            raise LookupError("No pricing version is current.")
        return self.s.pricing

    async def get(self, version: str) -> PricingVersion | None:
        known = {p.version: p for p in (self.s.pricing, *self.s.past_pricing) if p is not None}
        return known.get(version)


class _Settings:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def get(self, key: str) -> str | None:
        return self.s.settings.get(key)

    async def put(self, key: str, value: str, *, now: datetime) -> None:
        self.s.settings[key] = value

    async def swap(self, key: str, expected: str | None, value: str, *,
                   now: datetime) -> bool:
        if self.s.settings.get(key) != expected:
            return False
        self.s.settings[key] = value
        return True


class _Files:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def add(self, file: StoredFile) -> None:
        self.s.files[file.id] = file

    async def get(self, file_id: FileId, *, for_update: bool = False) -> StoredFile | None:
        return self.s.files.get(file_id)

    async def list_for_scope(self, scope: FileScope, *, deleted: bool = False,
                             limit: int = 500) -> Sequence[StoredFile]:
        files = [f for f in self.s.files.values()
                 if f.scope == scope and f.is_deleted == deleted]
        return sorted(files, key=lambda f: (f.created_at, f.id), reverse=True)[:limit]

    async def list_by_status(self, statuses: Sequence[str], *,
                             limit: int = 500) -> Sequence[StoredFile]:
        files = [f for f in self.s.files.values()
                 if f.status in statuses and not f.is_deleted]
        return sorted(files, key=lambda f: (f.created_at, f.id))[:limit]

    async def lock_scope(self, scope: FileScope) -> None:
        """Nothing to lock: each unit of work has a private copy of the store."""

    async def bytes_used(self, scope: FileScope) -> int:
        return sum(f.size_bytes for f in self.s.files.values()
                   if f.scope == scope and not f.is_deleted)

    async def update(self, file: StoredFile) -> None:
        self.s.files[file.id] = file


class _JobRuns:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def add(self, run: JobRun) -> None:
        self.s.job_runs[run.id] = run

    async def update(self, run: JobRun) -> None:
        self.s.job_runs[run.id] = run

    async def list_for_message(self, message_id: str) -> Sequence[JobRun]:
        runs = [r for r in self.s.job_runs.values() if r.message_id == message_id]
        return sorted(runs, key=lambda r: (r.attempt, r.started_at, r.id))

    async def list_recent(self, *, name: str | None = None, status: str | None = None,
                          limit: int = 100) -> Sequence[JobRun]:
        runs = [r for r in self.s.job_runs.values()
                if (name is None or r.name == name) and (status is None or r.status == status)]
        return sorted(runs, key=lambda r: (r.started_at, r.id), reverse=True)[:limit]


class _ToolUsage:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def add_call(self, record: ToolCallRecord) -> None:
        self.s.tool_calls.append(record)

    async def add_file_access(self, access: FileAccess) -> None:
        self.s.file_accesses.append(access)

    async def calls_for_turn(self, turn_id: TurnId) -> Sequence[ToolCallRecord]:
        calls = [c for c in self.s.tool_calls if c.turn_id == turn_id]
        return sorted(calls, key=lambda c: (c.created_at, c.round, c.id))

    async def file_accesses_for_turn(self, turn_id: TurnId) -> Sequence[FileAccess]:
        accesses = [a for a in self.s.file_accesses if a.turn_id == turn_id]
        return sorted(accesses, key=lambda a: (a.created_at, a.id))


class _Credentials:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def add_magic_link(self, link: MagicLink) -> None:
        self.s.links[link.id] = link

    async def get_magic_link(self, token_hash: str) -> MagicLink | None:
        return next((lk for lk in self.s.links.values() if lk.token_hash == token_hash), None)

    async def consume_magic_link(self, link_id: MagicLinkId, now: datetime) -> bool:
        link = self.s.links[link_id]
        if link.used_at is not None:
            return False
        self.s.links[link_id] = replace(link, used_at=now)
        return True

    async def add_session(self, session: AuthSession) -> None:
        self.s.sessions[session.token_hash] = session

    async def get_session(self, token_hash: str) -> AuthSession | None:
        return self.s.sessions.get(token_hash)

    async def get_session_with_user(
            self, token_hash: str) -> tuple[AuthSession, User | None, frozenset[Role]] | None:
        session = self.s.sessions.get(token_hash)
        if session is None:
            return None
        user, roles = self._holder(session.user_id)
        return session, user, roles

    def _holder(self, user_id: UserId) -> tuple[User | None, frozenset[Role]]:
        user = self.s.users.get(user_id)
        if user is None:
            return None, frozenset()
        return user, frozenset(r for u, r in self.s.roles if u == user_id)

    async def update_session(self, session: AuthSession) -> None:
        self.s.sessions[session.token_hash] = session

    async def add_api_token(self, token: ApiToken) -> None:
        self.s.tokens[token.id] = token

    async def get_api_token(self, token_id: ApiTokenId) -> ApiToken | None:
        return self.s.tokens.get(token_id)

    async def get_api_token_with_user(
            self, token_hash: str) -> tuple[ApiToken, User | None, frozenset[Role]] | None:
        token = next((t for t in self.s.tokens.values() if t.token_hash == token_hash), None)
        if token is None:
            return None
        user, roles = self._holder(token.user_id)
        return token, user, roles

    async def list_api_tokens(self, user_id: UserId) -> Sequence[ApiToken]:
        tokens = [t for t in self.s.tokens.values() if t.user_id == user_id]
        return sorted(tokens, key=lambda t: (t.created_at, t.id), reverse=True)

    async def update_api_token(self, token: ApiToken) -> None:
        self.s.tokens[token.id] = token

    async def purge_expired(self, now: datetime) -> int:
        links = [k for k, v in self.s.links.items() if v.used_at or v.expires_at <= now]
        sessions = [k for k, v in self.s.sessions.items() if v.expires_at <= now]
        for k in links:
            del self.s.links[k]
        for h in sessions:
            del self.s.sessions[h]
        return len(links) + len(sessions)


class _Wallets:
    def __init__(self, s: Store) -> None:
        self.s = s

    def _check_customer(self, wallet: Wallet) -> None:
        if wallet.stripe_customer_id is not None and any(
            w.stripe_customer_id == wallet.stripe_customer_id and w.user_id != wallet.user_id
            for w in self.s.wallets.values()
        ):
            raise Conflict("customer taken", code="duplicate_stripe_customer")

    async def get(self, user_id: UserId, *, for_update: bool = False) -> Wallet | None:
        return self.s.wallets.get(user_id)

    async def add(self, wallet: Wallet) -> None:
        if wallet.user_id in self.s.wallets:
            raise Conflict("wallet exists", code="wallet_exists")
        self._check_customer(wallet)
        self.s.wallets[wallet.user_id] = wallet

    async def update(self, wallet: Wallet) -> None:
        if wallet.user_id in self.s.wallets:  # as SQL: an UPDATE of no row does nothing
            self._check_customer(wallet)
            self.s.wallets[wallet.user_id] = wallet

    async def find_by_customer(self, stripe_customer_id: str) -> Wallet | None:
        return next((w for w in self.s.wallets.values()
                     if w.stripe_customer_id == stripe_customer_id), None)

    async def list_all(self, *, after: UserId | None = None,
                       limit: int = 500) -> Sequence[Wallet]:
        found = sorted((w for w in self.s.wallets.values() if after is None or w.user_id > after),
                       key=lambda w: w.user_id)
        return found[:limit]


class _Ledger:
    def __init__(self, s: Store) -> None:
        self.s = s

    def _oldest_first(self, entries: Any) -> list[LedgerEntry]:
        return sorted(entries, key=lambda e: (e.created_at, e.id))

    async def append(self, entries: Sequence[LedgerEntry]) -> None:
        keys = [e.idempotency_key for e in entries]
        stored = {e.idempotency_key for e in self.s.ledger}
        if len(set(keys)) < len(keys) or any(k in stored for k in keys):
            raise Conflict("ledger entry already recorded", code="duplicate_ledger_entry")
        self.s.ledger.extend(entries)

    async def has_key(self, idempotency_key: str) -> bool:
        return any(e.idempotency_key == idempotency_key for e in self.s.ledger)

    async def list_for_user(self, user_id: UserId, *, limit: int = 50,
                            before: tuple[datetime, str] | None = None,
                            kinds: Sequence[EntryKind] | None = None) -> Sequence[LedgerEntry]:
        found = [e for e in self.s.ledger if e.user_id == user_id
                 and (before is None or (e.created_at, e.id) < before)
                 and (kinds is None or e.kind in kinds)]
        return list(reversed(self._oldest_first(found)))[:limit]

    async def all_for_user(self, user_id: UserId) -> Sequence[LedgerEntry]:
        return self._oldest_first(e for e in self.s.ledger if e.user_id == user_id)

    async def reservation(self, reservation_id: str) -> Sequence[LedgerEntry]:
        return self._oldest_first(e for e in self.s.ledger if e.reservation_id == reservation_id)

    async def open_reservations(self, *, older_than: datetime) -> Sequence[LedgerEntry]:
        released = {e.reservation_id for e in self.s.ledger if e.kind is EntryKind.RELEASE}
        return self._oldest_first(
            e for e in self.s.ledger if e.kind is EntryKind.RESERVE
            and e.reservation_id is not None and e.reservation_id not in released
            and e.created_at < older_than)

    async def held_for_user(self, user_id: UserId, *, since: datetime) -> Decimal:
        released = {e.reservation_id for e in self.s.ledger if e.kind is EntryKind.RELEASE}
        return credits(ZERO - sum((e.amount for e in self.s.ledger
                                   if e.user_id == user_id and e.kind is EntryKind.RESERVE
                                   and e.reservation_id is not None
                                   and e.reservation_id not in released
                                   and e.created_at >= since), ZERO))

    async def burned_and_held(self, user_id: UserId, *, start: datetime, end: datetime,
                              held_since: datetime) -> tuple[Decimal, Decimal]:
        return (await self.burned_between(user_id, start, end),
                await self.held_for_user(user_id, since=held_since))

    async def burned_between(self, user_id: UserId, start: datetime, end: datetime) -> Decimal:
        return credits(ZERO - sum((e.amount for e in self.s.ledger
                                   if e.user_id == user_id and e.kind is EntryKind.BURN
                                   and start <= e.created_at < end), ZERO))


class _PaymentEvents:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def claim(self, event_id: str, *, kind: str, now: datetime) -> bool:
        if event_id in self.s.payment_events:
            return False
        self.s.payment_events[event_id] = (kind, now)
        return True


class _Audit:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def add(self, event: AuditEvent) -> None:
        self.s.audit_events.append(event)

    async def list(self, *, actor: str | None = None, action: str | None = None,
                   target: str | None = None, outcome: str | None = None,
                   since: datetime | None = None, until: datetime | None = None,
                   before: tuple[datetime, str] | None = None,
                   limit: int = 100) -> Sequence[AuditEvent]:
        found = [e for e in self.s.audit_events
                 if (actor is None or e.actor_id == actor
                     or e.actor_label.lower() == actor.lower())
                 and (action is None or e.action.startswith(action))
                 and (target is None or e.target.lower() == target.lower())
                 and (outcome is None or e.outcome.value == outcome)
                 and (since is None or e.created_at >= since)
                 and (until is None or e.created_at < until)
                 and (before is None or (e.created_at, e.id) < before)]
        return sorted(found, key=lambda e: (e.created_at, e.id), reverse=True)[:limit]


def _month_of(day: date) -> date:
    return day.replace(day=1)


def _month_ceiling(day: date) -> date:
    if day.day == 1:
        return day
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _call_totals(call: LlmCall) -> UsageTotals:
    return UsageTotals(user_id=call.user_id, model_alias=call.model_alias,
                       day=call.created_at.astimezone(UTC).date(), calls=1,
                       failed_calls=int(call.status is not CallStatus.OK),
                       prompt_tokens=call.prompt_tokens, cached_tokens=call.cached_tokens,
                       completion_tokens=call.completion_tokens,
                       provider_cost_usd=call.provider_cost_usd,
                       credits=call.credits_burned)


def _grouped(rows: Sequence[UsageTotals], by: Sequence[str], *, days: bool,
             order_by: str | None = None, limit: int | None = None) -> list[UsageTotals]:
    """``rows`` (each of one user, model and day or month) summed per group of ``by``;
    ``days``: the rows are of days (else of months)."""
    dims = set(by)
    if unknown := dims - {"user", "model", "day", "month"}:
        raise ValueError(f"Unknown grouping {sorted(unknown)}.")
    if order_by not in (None, "credits", "cost", "tokens"):
        raise ValueError(f"Unknown order {order_by!r}.")

    def bucket(row: UsageTotals) -> date | None:
        assert row.day is not None
        if "day" in dims and days:
            return row.day
        return _month_of(row.day) if "month" in dims else None

    found = merge([replace(row, user_id=row.user_id if "user" in dims else None,
                           model_alias=row.model_alias if "model" in dims else None,
                           day=bucket(row)) for row in rows])
    found.sort(key=lambda t: t.key())
    if order_by is not None:
        rank = {"credits": lambda t: t.credits, "cost": lambda t: t.provider_cost_usd,
                "tokens": lambda t: t.tokens}[order_by]
        found.sort(key=rank, reverse=True)  # stable: ties stay in key order
    return found if limit is None else found[:limit]


INGEST_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class _Rollups:
    """Rollups computed from ``Store.calls`` on rebuild, as the SQL does from the raw rows."""

    def __init__(self, s: Store) -> None:
        self.s = s

    def _stamp(self) -> None:
        """Record the calls written since the last look (tests append to ``Store.calls``)."""
        for call in self.s.calls:
            if call.id not in self.s.recorded:
                self.s.recorded[call.id] = INGEST_EPOCH + timedelta(
                    microseconds=len(self.s.recorded) + 1)

    def _recorded(self, call: LlmCall, since: datetime | None,
                  before: datetime | None) -> bool:
        at = self.s.recorded[call.id]
        return (since is None or at >= since) and (before is None or at < before)

    async def ingest_mark(self, *, lag: timedelta) -> datetime:
        self._stamp()  # writes are instant here: no lag
        return INGEST_EPOCH + timedelta(microseconds=len(self.s.recorded) + 1)

    async def rebuild_days(self, start: date, end: date, *,
                           recorded_before: datetime | None = None) -> int:
        self._stamp()
        for key in [k for k in self.s.rollups_daily if start <= k[0] < end]:
            del self.s.rollups_daily[key]
        for day_user in [k for k in self.s.activity if start <= k[0] < end]:
            del self.s.activity[day_user]
        days = merge([_call_totals(c) for c in self.s.calls
                      if c.created_at >= datetime.combine(start, datetime.min.time(), UTC)
                      and c.created_at < datetime.combine(end, datetime.min.time(), UTC)
                      and self._recorded(c, None, recorded_before)])
        self._add(days, monthly=False)
        return len(days)

    async def add_events(self, recorded_from: datetime, recorded_before: datetime) -> int:
        self._stamp()
        days = merge([_call_totals(c) for c in self.s.calls
                      if self._recorded(c, recorded_from, recorded_before)])
        self._add(days, monthly=True)
        return len(days)

    def _add(self, days: list[UsageTotals], *, monthly: bool) -> None:
        for row in days:
            assert row.day is not None and row.user_id is not None
            assert row.model_alias is not None
            keys = [(self.s.rollups_daily, row.day)]
            if monthly:
                keys.append((self.s.rollups_monthly, _month_of(row.day)))
            for table, day in keys:
                known = table.get((day, row.user_id, row.model_alias))
                table[(day, row.user_id, row.model_alias)] = (
                    replace(row, day=day) if known is None else known.plus(row))
            calls, spent = self.s.activity.get((row.day, row.user_id), (0, Decimal(0)))
            self.s.activity[(row.day, row.user_id)] = (calls + row.calls, spent + row.credits)

    async def first_event_day(self) -> date | None:
        oldest = min((c.created_at for c in self.s.calls), default=None)
        return None if oldest is None else oldest.astimezone(UTC).date()

    async def rebuild_months(self, start: date, end: date) -> int:
        first, stop = _month_ceiling(start), _month_ceiling(end)
        for key in [k for k in self.s.rollups_monthly if first <= k[0] < stop]:
            del self.s.rollups_monthly[key]
        months = merge([replace(row, day=_month_of(day))
                        for (day, _, _), row in self.s.rollups_daily.items()
                        if first <= day < stop])
        for row in months:
            assert row.day is not None and row.user_id is not None
            assert row.model_alias is not None
            self.s.rollups_monthly[(row.day, row.user_id, row.model_alias)] = row
        return len(months)

    async def usage(self, start: date, end: date, *, by: Sequence[str],
                    watermark: datetime | None, user_id: UserId | None = None,
                    order_by: str = "credits", limit: int | None = None,
                    offset: int = 0) -> UsagePage:
        rolled = list(await self.totals(start, end, by=by, user_id=user_id)) \
            if watermark is not None else []
        raw = list(await self.raw_totals(
            datetime.combine(start, datetime.min.time(), UTC),
            datetime.combine(end, datetime.min.time(), UTC), by=by, user_id=user_id,
            recorded_from=watermark))
        found = sorted(merge(rolled, raw), key=lambda t: t.key())
        if order_by != "key":
            rank = {"credits": lambda t: t.credits, "cost": lambda t: t.provider_cost_usd,
                    "tokens": lambda t: t.tokens}[order_by]
            found.sort(key=rank, reverse=True)  # stable: ties stay in key order
        total = UsageTotals()
        for row in found:
            total = total.plus(row)
        page = found[offset:] if limit is None else found[offset:offset + limit]
        return UsagePage(rows=page, groups=len(found), total=total)

    async def totals(self, start: date, end: date, *, by: Sequence[str],
                     user_id: UserId | None = None, order_by: str | None = None,
                     limit: int | None = None) -> Sequence[UsageTotals]:
        whole_months = start.day == 1 and end.day == 1 and "day" not in by
        table = self.s.rollups_monthly if whole_months else self.s.rollups_daily
        rows = [row for (day, user, _), row in table.items()
                if start <= day < end and (user_id is None or user == user_id)]
        return _grouped(rows, by, days=not whole_months, order_by=order_by, limit=limit)

    async def raw_totals(self, start: datetime, end: datetime, *, by: Sequence[str],
                         user_id: UserId | None = None,
                         recorded_from: datetime | None = None) -> Sequence[UsageTotals]:
        self._stamp()
        rows = [_call_totals(c) for c in self.s.calls if start <= c.created_at < end
                and (user_id is None or c.user_id == user_id)
                and self._recorded(c, recorded_from, None)]
        return _grouped(rows, by, days=True)

    async def active_users(self, start: date, end: date) -> Sequence[UserId]:
        return sorted({user for day, user in self.s.activity if start <= day < end})

    async def raw_active_users(self, start: datetime, end: datetime) -> Sequence[UserId]:
        return sorted({c.user_id for c in self.s.calls if start <= c.created_at < end})

    async def raw_activity(self, start: datetime, end: datetime, *,
                           recorded_from: datetime | None = None
                           ) -> Sequence[tuple[date, UserId]]:
        self._stamp()
        return sorted({(c.created_at.astimezone(UTC).date(), c.user_id) for c in self.s.calls
                       if start <= c.created_at < end
                       and self._recorded(c, recorded_from, None)})

    async def active_counts(self, start: date, end: date,
                            bucket: str) -> Sequence[tuple[date, int]]:
        of = {"day": lambda d: d, "week": lambda d: d - timedelta(days=d.weekday()),
              "month": _month_of}
        if bucket not in of:
            raise ValueError(f"Unknown bucket {bucket!r}.")
        users: dict[date, set[UserId]] = {}
        for day, user in self.s.activity:
            if start <= day < end:
                users.setdefault(of[bucket](day), set()).add(user)
        return sorted((key, len(found)) for key, found in users.items())


class FakeUnitOfWork:
    """Works on a deep copy of the store; ``commit`` publishes it, anything else discards it."""

    def __init__(self, store: Store) -> None:
        self.committed_store = store
        self.commits = 0

    async def __aenter__(self) -> FakeUnitOfWork:
        self._work = copy.deepcopy(self.committed_store)
        self.users = _Users(self._work)
        self.rooms = _Rooms(self._work)
        self.agents = _Agents(self._work)
        self.turns = _Turns(self._work)
        self.credentials = _Credentials(self._work)
        self.sessions = _Sessions(self._work)
        self.steps = _Steps(self._work)
        self.events = _Events(self._work)
        self.usage = _Usage(self._work)
        self.pricing = _Pricing(self._work)
        self.settings = _Settings(self._work)
        self.files = _Files(self._work)
        self.job_runs = _JobRuns(self._work)
        self.tool_usage = _ToolUsage(self._work)
        self.wallets = _Wallets(self._work)
        self.ledger = _Ledger(self._work)
        self.payment_events = _PaymentEvents(self._work)
        self.audit = _Audit(self._work)
        self.rollups = _Rollups(self._work)
        self.retention = FakeRetention(self._work)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.rollback()

    async def commit(self) -> None:
        for name in vars(self._work):
            setattr(self.committed_store, name, copy.deepcopy(getattr(self._work, name)))
        self.commits += 1

    async def rollback(self) -> None:
        self._work = copy.deepcopy(self.committed_store)
        for repo in (self.users, self.rooms, self.agents, self.turns, self.credentials,
                     self.sessions, self.steps, self.events, self.usage, self.pricing,
                     self.settings, self.files, self.job_runs, self.tool_usage,
                     self.wallets, self.ledger, self.payment_events, self.audit,
                     self.rollups, self.retention):
            repo.s = self._work


@dataclass
class FakeApp:
    """Use cases wired to fakes, with handles on the fakes for assertions."""

    store: Store
    clock: FakeClock
    mailer: FakeMailer
    chat: FakeChatModel
    events: InProcessTurnEvents
    tasks: InProcessTasks
    uc: UseCases

    async def settle(self) -> None:
        """Wait until every background turn has finished."""
        await self.tasks.wait_idle()

    def container(self, settings: Settings, **extra: Any) -> Container:
        """A composition root over these fakes, for delivery tests (HTTP, CLI)."""
        return Container(settings=settings, use_cases=self.uc, clock=self.clock,
                         tasks=self.tasks, **extra)


FAST_ENGINE = EnginePolicy(backoff_base_s=0.001, backoff_max_s=0.002, retry_after_cap_s=0.05,
                           first_token_timeout_s=0.5, call_timeout_s=2.0, flush_interval_s=0.01,
                           heartbeat_interval_s=0.05, stream_wait_s=0.5)


def fake_app(*, limiter: object | None = None, identity: object | None = None,
             mailer: object | None = None, engine: EnginePolicy = FAST_ENGINE,
             chat: object | None = None, search: object | None = None,
             blobs: object | None = None, documents: object | None = None,
             jobs: object | None = None, files: FilePolicy | None = None,
             tools: ToolPolicy | None = None, payments: object | None = None,
             billing: BillingPolicy | None = None,
             provider_stats: object | None = None,
             retention: RetentionPolicy | None = None) -> FakeApp:
    """Use cases on in-memory fakes; ``chat`` swaps the scripted model for another one
    (e.g. the real OpenRouter adapter against a fake server)."""
    store, clock, fake_mailer = Store(), FakeClock(), FakeMailer()
    fake_chat, events, tasks = FakeChatModel(), InProcessTurnEvents(), InProcessTasks()
    deps = Deps(uow=lambda: FakeUnitOfWork(store), clock=clock,
                mailer=mailer or fake_mailer,  # type: ignore[arg-type]
                limiter=limiter or AllowAllLimiter(),  # type: ignore[arg-type]
                chat=chat or fake_chat,  # type: ignore[arg-type]
                events=events, tasks=tasks,
                identity=identity, auth=AuthPolicy(), engine=engine,  # type: ignore[arg-type]
                search=search, blobs=blobs, documents=documents,  # type: ignore[arg-type]
                jobs=jobs, files=files or FilePolicy(),  # type: ignore[arg-type]
                tools=tools or ToolPolicy(), payments=payments,  # type: ignore[arg-type]
                billing=billing or BillingPolicy(),
                retention=retention or RetentionPolicy(),
                provider_stats=provider_stats)  # type: ignore[arg-type]
    return FakeApp(store=store, clock=clock, mailer=fake_mailer, chat=fake_chat, events=events,
                   tasks=tasks, uc=UseCases.build(deps))


@dataclass(frozen=True)
class QueuedJob:
    name: str
    payload: dict[str, str]
    message_id: str


class FakeJobQueue:
    """``JobQueue`` that keeps what was queued (``enqueued``, in order, never cleared);
    :meth:`run_all` runs it the way a worker would."""

    def __init__(self) -> None:
        self.enqueued: list[QueuedJob] = []
        self._next = 0  # enqueued[:_next] have run

    async def enqueue(self, name: str, payload: Any) -> str:
        import uuid

        job = QueuedJob(name, dict(payload), str(uuid.uuid4()))
        self.enqueued.append(job)
        return job.message_id

    async def run_all(self, use_cases: UseCases, *, max_attempts: int = 3) -> int:
        """Run every job not run yet (and those they queue) through ``run_job``; a
        ``RetryJob`` is retried at once, up to ``max_attempts``. Returns how many ran."""
        from pantheon_core.usecases.jobs import RetryJob

        ran = 0
        while self._next < len(self.enqueued):
            job = self.enqueued[self._next]
            self._next += 1
            for attempt in range(1, max_attempts + 1):
                try:
                    await use_cases.run_job(job.name, job.payload, message_id=job.message_id,
                                            attempt=attempt, final=attempt == max_attempts)
                except RetryJob:
                    continue
                break
            ran += 1
        return ran
