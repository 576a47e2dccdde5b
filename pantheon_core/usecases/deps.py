"""What use cases need from the outside, handed over once by the composition root."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from pantheon_core.domain.credentials import MAGIC_LINK_TTL, SESSION_TTL
from pantheon_core.domain.files import MAX_FILE_BYTES, MAX_SCOPE_BYTES
from pantheon_core.domain.retention import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BATCHES,
    DEFAULT_RETENTION_DAYS,
)
from pantheon_core.ports.blob_store import BlobStore
from pantheon_core.ports.chat_model import ChatModel
from pantheon_core.ports.clock import Clock
from pantheon_core.ports.documents import DocumentParser, ParseLimits
from pantheon_core.ports.identity import IdentityVerifier
from pantheon_core.ports.jobs import JobQueue
from pantheon_core.ports.mailer import Mailer
from pantheon_core.ports.payments import Payments
from pantheon_core.ports.provider_stats import ProviderStats
from pantheon_core.ports.rate_limiter import RateLimit, RateLimiter
from pantheon_core.ports.slot_leases import SlotLeases
from pantheon_core.ports.tasks import BackgroundTasks
from pantheon_core.ports.turn_events import TurnEvents
from pantheon_core.ports.unit_of_work import UnitOfWorkFactory
from pantheon_core.ports.web_search import WebSearch


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    """Sign-in settings. ``link_url`` is where a magic link points; ``{token}`` is filled in.
    ``failed_signins_per_client``: refused credentials (links, API tokens, sessions) one
    client address may send in the window before its sign-ins are refused (429)."""

    link_url: str = "http://127.0.0.1:8000/api/v1/auth/verify?token={token}"
    magic_link_ttl: timedelta = MAGIC_LINK_TTL
    session_ttl: timedelta = SESSION_TTL
    links_per_email: RateLimit = field(default_factory=lambda: RateLimit(limit=5, window_s=900))
    links_per_client: RateLimit = field(default_factory=lambda: RateLimit(limit=20, window_s=3600))
    failed_signins_per_client: RateLimit = field(
        default_factory=lambda: RateLimit(limit=20, window_s=900))


@dataclass(frozen=True, slots=True)
class EnginePolicy:
    """Timeouts, retries and budgets of the turn engine (NFR-REL-003)."""

    max_attempts: int = 3  # per LLM call; retries happen only before the first token
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    retry_after_cap_s: float = 20.0
    first_token_timeout_s: float = 45.0
    call_timeout_s: float = 180.0
    flush_interval_s: float = 0.5  # how often streamed events reach the database
    delta_interval_s: float = 0.1  # a step's streamed text: at most one step_delta this often
    heartbeat_interval_s: float = 5.0
    stale_after_s: float = 60.0  # a running turn without heartbeat for this long is orphaned
    max_output_tokens: int = 1200
    max_context_tokens: int = 24_000
    memory_budget_tokens: int = 6_000
    stream_wait_s: float = 15.0
    model_overrides: Mapping[str, str] = field(default_factory=dict)  # alias -> provider model

    def model_for(self, alias: str, listed: str) -> str:
        """The provider model id to call for ``alias``: an override, else the priced one."""
        return self.model_overrides.get(alias, listed)


@dataclass(frozen=True, slots=True)
class TurnLimits:
    """Graceful degradation of sends (NFR-PERF-003): what one user and the whole service
    may run at once, and how fast one user may send.

    ``running_total`` 0 refuses every send (a drain switch); ``lease_ttl_s`` is how long a
    running turn's slot outlives its last renewal (a crashed process frees its slots then);
    ``retry_after_s`` is the wait suggested when a send is refused for running turns.
    """

    running_per_user: int = 2
    running_total: int = 100
    sends_per_user: RateLimit = field(default_factory=lambda: RateLimit(limit=20, window_s=60))
    lease_ttl_s: float = 60.0
    retry_after_s: int = 5


@dataclass(frozen=True, slots=True)
class FilePolicy:
    """Uploads, downloads and parsing (FR-TOOL-003/004, NFR-SEC-003).

    ``signing_secret`` signs upload and download URLs (HMAC-SHA256); ``url_base`` is where
    those URLs point (the API's public URL + ``/api/v1``).
    """

    signing_secret: str = "pantheon-development-secret"
    url_base: str = "http://127.0.0.1:8000/api/v1"
    upload_ttl: timedelta = timedelta(minutes=15)
    download_ttl: timedelta = timedelta(minutes=5)
    max_file_bytes: int = MAX_FILE_BYTES
    max_scope_bytes: int = MAX_SCOPE_BYTES
    parse: ParseLimits = field(default_factory=ParseLimits)
    parse_max_attempts: int = 3


@dataclass(frozen=True, slots=True)
class ToolPolicy:
    """How agents use tools inside one step."""

    max_rounds: int = 3  # model → tools → model rounds per step; then it must answer
    max_calls_per_round: int = 4
    search_results: int = 5
    search_budget_chars: int = 6_000
    read_file_max_chars: int = 12_000  # per read_file call, further capped by the context
    search_timeout_s: float = 30.0


@dataclass(frozen=True, slots=True)
class TopUpPack:
    id: str
    credits: Decimal
    price_id: str  # the provider's price of the pack


@dataclass(frozen=True, slots=True)
class BillingPolicy:
    """Credits and payments (FR-BILL-*, FR-PLAN-*).

    ``welcome_credits`` go (once) to every new wallet's top-up bucket so a fresh install works;
    ``plan_prices`` maps plan id → the provider's price id; ``topups`` are the packs on sale;
    ``bad_signatures_per_client``: webhook deliveries with a bad signature one client address
    may send in the window before its deliveries are refused (429) unverified.
    """

    welcome_credits: Decimal = Decimal(100)
    credit_value_usd: Decimal = Decimal("0.015")  # what a credit is worth, for margins
    plan_prices: Mapping[str, str] = field(default_factory=dict)
    topups: tuple[TopUpPack, ...] = ()
    success_url: str = "http://127.0.0.1:8000/billing?checkout=success"
    cancel_url: str = "http://127.0.0.1:8000/billing?checkout=cancelled"
    portal_return_url: str = "http://127.0.0.1:8000/billing"
    reservation_ttl_s: float = 900.0  # a hold older than this (its process died) is released
    prompt_chars_per_token_bound: int = 2  # reservations assume at most 1 token per 2 chars
    bad_signatures_per_client: RateLimit = field(
        default_factory=lambda: RateLimit(limit=30, window_s=600))


@dataclass(frozen=True, slots=True)
class AnalyticsPolicy:
    """Usage rollups (FR-ADMIN-002): ``rollup_lag_s`` is how far behind the store's clock the
    rollup job stops — the longest a usage write may take to commit — so none is skipped."""

    rollup_lag_s: float = 30.0


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Retention (FR-DATA-001..003): chat and file data older than ``days`` is purged; the
    purge jobs work in batches of ``batch_size`` units, at most ``max_batches`` per step and
    run (the next run goes on). The 7-day restore window is a rule, not a setting."""

    days: int = DEFAULT_RETENTION_DAYS
    batch_size: int = DEFAULT_BATCH_SIZE
    max_batches: int = DEFAULT_MAX_BATCHES

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.days)


@dataclass(frozen=True, slots=True)
class Deps:
    uow: UnitOfWorkFactory
    clock: Clock
    mailer: Mailer
    limiter: RateLimiter
    chat: ChatModel
    events: TurnEvents
    tasks: BackgroundTasks
    identity: IdentityVerifier | None = None
    auth: AuthPolicy = field(default_factory=AuthPolicy)
    engine: EnginePolicy = field(default_factory=EnginePolicy)
    search: WebSearch | None = None  # None: web_search answers ``search_not_configured``
    blobs: BlobStore | None = None  # None: files answer ``files_not_configured``
    documents: DocumentParser | None = None
    jobs: JobQueue | None = None  # None: parse jobs run inline (tests, scripts)
    files: FilePolicy = field(default_factory=FilePolicy)
    tools: ToolPolicy = field(default_factory=ToolPolicy)
    payments: Payments | None = None  # None: checkout answers ``payments_not_configured``
    billing: BillingPolicy = field(default_factory=BillingPolicy)
    provider_stats: ProviderStats | None = None  # None: reconcile skips the cost comparison
    analytics: AnalyticsPolicy = field(default_factory=AnalyticsPolicy)
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    slots: SlotLeases | None = None  # None: running turns are not counted (tests, scripts)
    turn_limits: TurnLimits = field(default_factory=TurnLimits)


class UseCase:
    """Base for use cases: holds the dependencies; subclasses define ``__call__``."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
