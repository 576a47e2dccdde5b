"""The composition root: builds every adapter from :class:`Settings` and hands core its ports.

Called once per process (FastAPI lifespan, the CLI callback, worker start). Nothing
here runs at import time. Tests pass keyword overrides (a fake clock, a collecting
mailer, …) instead of patching.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from pantheon_adapters.redis_options import RedisTimeouts
from pantheon_adapters.settings import Settings
from pantheon_adapters.system.clock import SystemClock
from pantheon_adapters.tasks.inprocess import InProcessTasks
from pantheon_core.ports.blob_store import BlobStore
from pantheon_core.ports.chat_model import ChatModel
from pantheon_core.ports.clock import Clock
from pantheon_core.ports.documents import DocumentParser
from pantheon_core.ports.identity import IdentityVerifier
from pantheon_core.ports.jobs import JobQueue
from pantheon_core.ports.mailer import Mailer
from pantheon_core.ports.payments import Payments
from pantheon_core.ports.provider_stats import ProviderStats
from pantheon_core.ports.rate_limiter import RateLimit, RateLimiter
from pantheon_core.ports.slot_leases import SlotLeases
from pantheon_core.ports.turn_events import TurnEvents
from pantheon_core.ports.web_search import WebSearch
from pantheon_core.usecases.catalog import UseCases
from pantheon_core.usecases.deps import (
    AnalyticsPolicy,
    AuthPolicy,
    BillingPolicy,
    Deps,
    EnginePolicy,
    FilePolicy,
    RetentionPolicy,
    ToolPolicy,
    TopUpPack,
    TurnLimits,
)

if TYPE_CHECKING:
    from pantheon_adapters.jobs.dramatiq_jobs import JobRuntime
    from pantheon_adapters.observability.metrics import Metrics
    from pantheon_adapters.observability.metrics_server import MetricsServer

__all__ = ["Container", "JobRuntime", "Metrics", "Settings", "build_container",
           "build_job_runtime", "check_metrics_access", "database_current",
           "database_downgrade", "database_upgrade", "load_settings", "new_metrics",
           "setup_observability", "shared_metrics_dir", "start_worker_metrics"]


FIRST_TOKEN_BACKSTOP_S = 2.0  # the engine's first-token deadline, past the chat model's


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with explicit overrides winning."""
    return Settings(**overrides)


@dataclass
class Container:
    """Everything one process needs, and how to release it."""

    settings: Settings
    use_cases: UseCases
    clock: Clock
    tasks: InProcessTasks
    readiness_checks: dict[str, Callable[[], Awaitable[None]]] = field(default_factory=dict)
    latest_login_link: Callable[[str], str | None] = lambda _email: None
    jobs_runtime: JobRuntime | None = None  # the job broker this container sends to (if any)
    metrics: Metrics = field(default_factory=lambda: new_metrics())
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def readiness(self) -> dict[str, str]:
        """``{"database": "ok", "redis": "error: …"}`` for every dependency this process uses,
        all checked at once, each within ``settings.readiness_timeout_s`` (a dependency that
        does not answer by then is an error, so a hung one cannot hang the probe)."""
        report: dict[str, str] = {}
        timeout_s = self.settings.readiness_timeout_s

        async def probe(name: str, check: Callable[[], Awaitable[None]]) -> None:
            try:
                with anyio.fail_after(timeout_s):
                    await check()
                report[name] = "ok"
            except TimeoutError:
                report[name] = f"error: no answer within {timeout_s:g} s"
            except Exception as exc:  # a probe reports every failure; it never raises
                report[name] = f"error: {type(exc).__name__}: {exc}"[:300]

        async with anyio.create_task_group() as group:
            for name, check in self.readiness_checks.items():
                group.start_soon(probe, name, check)
        return {name: report[name] for name in self.readiness_checks}

    async def aclose(self) -> None:
        """Let running turns finish (or end them) first, while every adapter still works;
        then let the in-process job worker finish and stop (its jobs run in a container of
        their own, closed with it); then release the adapters in reverse order of creation."""
        await self.tasks.aclose()
        if self.jobs_runtime is not None:
            runtime, self.jobs_runtime = self.jobs_runtime, None
            await anyio.to_thread.run_sync(runtime.close)
        for close in reversed(self._closers):
            await close()
        self._closers.clear()


@dataclass
class _Parts:
    """What the builders below collect while wiring adapters, before the container exists."""

    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    checks: dict[str, Callable[[], Awaitable[None]]] = field(default_factory=dict)
    latest_login_link: Callable[[str], str | None] = lambda _email: None


async def build_container(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    mailer: Mailer | None = None,
    limiter: RateLimiter | None = None,
    identity: IdentityVerifier | None = None,
    chat: ChatModel | None = None,
    events: TurnEvents | None = None,
    engine: EnginePolicy | None = None,
    search: WebSearch | None = None,
    blobs: BlobStore | None = None,
    documents: DocumentParser | None = None,
    jobs: JobQueue | None = None,
    payments: Payments | None = None,
    metrics: Metrics | None = None,
    slots: SlotLeases | None = None,
    inside_worker: bool = False,
) -> Container:
    """Wire every port from ``settings``; a keyword given here replaces the built adapter.

    ``jobs``: without one, the container sends jobs to a :class:`JobRuntime` of its own
    (closed with it), which also runs them on a worker thread of this process when
    ``settings.effective_jobs_in_process`` — or, with neither Redis nor an in-process
    worker, has none and file parsing runs inline.

    ``inside_worker``: this container runs jobs inside a worker (the host of a runtime), so
    it starts no worker of its own and does not migrate the database again.

    ``metrics``: the process's (its entry point makes one); without, the container gets its
    own. The containers its job runtime builds share it.
    """
    from pantheon_adapters.sql.database import Database

    overrides: dict[str, Any] = {
        name: value for name, value in {
            "clock": clock, "mailer": mailer, "limiter": limiter, "identity": identity,
            "chat": chat, "events": events, "engine": engine, "search": search,
            "blobs": blobs, "documents": documents, "payments": payments,
            "slots": slots}.items()
        if value is not None}
    settings = settings or load_settings()
    metrics = metrics or new_metrics()
    overrides["metrics"] = metrics
    clock = clock or SystemClock()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.should_auto_migrate and not inside_worker:
        await database_upgrade(settings)
    parts = _Parts()
    database = Database(settings.effective_database_url,
                        connect_timeout_s=settings.database_connect_timeout_s,
                        pool_timeout_s=settings.database_pool_timeout_s,
                        pool_size=settings.database_pool_size,
                        max_overflow=settings.database_max_overflow)
    parts.closers.append(database.dispose)
    parts.checks["database"] = database.ping
    tasks = InProcessTasks(metrics)
    files = file_policy(settings)
    blobs = blobs or _build_blobs(settings, parts)
    parts.checks["storage"] = blobs.ping
    runtime: JobRuntime | None = None
    if jobs is None:
        runtime = _build_jobs_runtime(settings, files, overrides, inside_worker=inside_worker)
        jobs = runtime.queue() if runtime is not None else None
    deps = Deps(
        uow=database.unit_of_work,
        clock=clock,
        mailer=mailer or _build_mailer(settings, parts),
        limiter=limiter or _build_limiter(settings, clock, parts),
        chat=_measured(chat or _build_chat(settings, parts, clock), metrics),
        events=events or _build_events(settings, parts),
        tasks=tasks,
        identity=identity or _build_identity(settings, parts),
        auth=AuthPolicy(
            link_url=settings.public_url.rstrip("/") + "/api/v1/auth/verify?token={token}",
            magic_link_ttl=timedelta(minutes=settings.magic_link_ttl_minutes),
            session_ttl=timedelta(days=settings.session_ttl_days),
            links_per_email=RateLimit(limit=settings.signin_links_per_email, window_s=900),
            links_per_client=RateLimit(limit=settings.signin_links_per_client, window_s=3600),
            failed_signins_per_client=RateLimit(limit=settings.signin_failures_per_client,
                                                window_s=settings.signin_failures_window_s),
        ),
        engine=engine or EnginePolicy(
            max_attempts=settings.llm_max_attempts,
            # the chat model enforces the first-token deadline itself (so that its circuit
            # breaker sees hangs); the engine's, a little later, is the backstop
            first_token_timeout_s=settings.llm_first_token_timeout_s + FIRST_TOKEN_BACKSTOP_S,
            call_timeout_s=settings.llm_call_timeout_s,
            heartbeat_interval_s=settings.turn_heartbeat_s,
            stale_after_s=settings.turn_stale_after_s,
            model_overrides=dict(settings.llm_models),
        ),
        search=search or _build_search(settings),
        blobs=blobs,
        documents=documents or _build_documents(),
        jobs=jobs,
        files=files,
        payments=payments or _build_payments(settings, parts),
        billing=billing_policy(settings),
        analytics=AnalyticsPolicy(rollup_lag_s=settings.rollup_lag_s),
        retention=RetentionPolicy(days=settings.retention_days,
                                  batch_size=settings.retention_batch_size),
        provider_stats=_build_provider_stats(settings, parts),
        tools=ToolPolicy(search_timeout_s=settings.search_timeout_s),
        slots=slots or _build_slots(settings, clock, parts),
        turn_limits=turn_limits(settings),
    )
    container = Container(settings=settings, use_cases=UseCases.build(deps), clock=clock,
                          tasks=tasks, readiness_checks=parts.checks,
                          latest_login_link=parts.latest_login_link, jobs_runtime=runtime,
                          metrics=metrics, _closers=parts.closers)
    if runtime is not None and runtime.in_process and runtime.uses_redis:
        # jobs may already wait in Redis: consume them now, not at this process's first send
        try:
            await anyio.to_thread.run_sync(runtime.start_worker)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await container.aclose()
            raise
    return container


def turn_limits(settings: Settings) -> TurnLimits:
    return TurnLimits(
        running_per_user=settings.turns_running_per_user,
        running_total=settings.turns_running_max,
        sends_per_user=RateLimit(limit=settings.sends_per_minute, window_s=60),
        lease_ttl_s=settings.turn_slot_ttl_s,
        retry_after_s=settings.turns_retry_after_s,
    )


def redis_timeouts(settings: Settings) -> RedisTimeouts:
    return RedisTimeouts(connect_s=settings.redis_connect_timeout_s,
                         command_s=settings.redis_timeout_s, retries=settings.redis_retries)


def file_policy(settings: Settings) -> FilePolicy:
    return FilePolicy(
        signing_secret=settings.signing_secret(),
        url_base=settings.public_url.rstrip("/") + "/api/v1",
        upload_ttl=timedelta(minutes=settings.upload_ttl_minutes),
    )


def billing_policy(settings: Settings) -> BillingPolicy:
    public = settings.effective_web_url  # Stripe sends the user back to the web app
    return BillingPolicy(
        welcome_credits=settings.welcome_credits,
        credit_value_usd=settings.credit_value_usd,
        plan_prices=settings.stripe_plan_prices,
        topups=tuple(TopUpPack(id=pack.id, credits=pack.credits, price_id=pack.price_id)
                     for pack in settings.stripe_topups),
        success_url=settings.billing_success_url or f"{public}/billing?checkout=success",
        cancel_url=settings.billing_cancel_url or f"{public}/billing?checkout=cancelled",
        portal_return_url=settings.billing_portal_return_url or f"{public}/billing",
        bad_signatures_per_client=RateLimit(limit=settings.webhook_bad_signatures_per_client,
                                            window_s=settings.webhook_bad_signatures_window_s),
    )


def build_job_runtime(settings: Settings, **overrides: Any) -> JobRuntime:
    """The job runtime of a ``pantheon worker`` process: its broker and actors, whose jobs
    run in one container built (with ``overrides``) on the worker's event loop. The caller
    starts its worker and closes it."""
    return _job_runtime(settings, file_policy(settings), overrides, in_process=False)


def _build_jobs_runtime(settings: Settings, files: FilePolicy, overrides: dict[str, Any], *,
                        inside_worker: bool) -> JobRuntime | None:
    in_process = settings.effective_jobs_in_process and not inside_worker
    if not (in_process or settings.redis_url):
        return None  # nothing would ever consume the in-memory queue: parse inline
    return _job_runtime(settings, files, overrides, in_process=in_process)


def _job_runtime(settings: Settings, files: FilePolicy, overrides: dict[str, Any], *,
                 in_process: bool) -> JobRuntime:
    from pantheon_adapters.jobs.dramatiq_jobs import JobRuntime

    runtime: JobRuntime

    async def host() -> Container:
        # jobs sent by a job go back to this runtime's broker
        return await build_container(settings, **overrides, jobs=runtime.queue(),
                                     inside_worker=True)

    runtime = JobRuntime(settings, host, files=files, in_process=in_process,
                         metrics=overrides.get("metrics"))
    return runtime


def _build_blobs(settings: Settings, parts: _Parts) -> BlobStore:
    if settings.effective_storage_backend == "s3":
        from pantheon_adapters.storage.s3 import S3BlobStore

        assert settings.s3_bucket and settings.s3_access_key_id  # checked by Settings
        assert settings.s3_secret_access_key
        store = S3BlobStore(settings.s3_bucket, endpoint_url=settings.s3_endpoint_url,
                            region=settings.s3_region,
                            access_key_id=settings.s3_access_key_id,
                            secret_access_key=settings.s3_secret_access_key,
                            connect_timeout_s=settings.s3_connect_timeout_s,
                            read_timeout_s=settings.s3_read_timeout_s,
                            max_attempts=settings.s3_max_attempts,
                            call_timeout_s=settings.s3_total_timeout_s)
        parts.closers.append(store.aclose)
        return store
    from pantheon_adapters.storage.local import LocalBlobStore

    return LocalBlobStore(settings.effective_storage_dir)


def _measured(chat: ChatModel, metrics: Metrics) -> ChatModel:
    from pantheon_adapters.observability.chat_metrics import MeasuredChatModel

    return MeasuredChatModel(chat, metrics)


def _build_search(settings: Settings) -> WebSearch | None:
    if not settings.tavily_api_key:
        return None
    from pantheon_adapters.search.tavily import TavilyWebSearch

    return TavilyWebSearch(settings.tavily_api_key, api_base_url=settings.tavily_base_url,
                           timeout_s=settings.tavily_timeout_s,
                           connect_timeout_s=settings.tavily_connect_timeout_s,
                           max_attempts=settings.tavily_max_attempts)


def _build_payments(settings: Settings, parts: _Parts) -> Payments | None:
    if not settings.stripe_secret_key:
        return None  # checkout answers payments_not_configured
    if not settings.stripe_webhook_secret:  # Settings checks it too; this guards model_construct
        raise ValueError("PANTHEON_STRIPE_WEBHOOK_SECRET is required when "
                         "PANTHEON_STRIPE_SECRET_KEY is set.")
    from pantheon_adapters.payments.stripe import StripePayments

    payments = StripePayments(settings.stripe_secret_key, settings.stripe_webhook_secret,
                              api_base=settings.stripe_api_base,
                              timeout_s=settings.stripe_timeout_s,
                              connect_timeout_s=settings.stripe_connect_timeout_s,
                              max_network_retries=settings.stripe_max_retries,
                              total_timeout_s=settings.stripe_total_timeout_s)
    parts.closers.append(payments.aclose)
    return payments


def _build_provider_stats(settings: Settings, parts: _Parts) -> ProviderStats | None:
    """OpenRouter's generation stats, for reconciliation, when OpenRouter is the provider."""
    if not settings.openrouter_api_key or settings.llm_backend != "openrouter":
        return None
    from pantheon_adapters.llm.openrouter_stats import OPENROUTER_API, OpenRouterStats

    stats = OpenRouterStats(settings.openrouter_api_key,
                            base_url=settings.openrouter_base_url or OPENROUTER_API,
                            timeout_s=settings.provider_stats_timeout_s,
                            connect_timeout_s=settings.llm_connect_timeout_s)
    parts.closers.append(stats.aclose)
    return stats


def _build_documents() -> DocumentParser:
    from pantheon_adapters.documents.parser import LocalDocumentParser

    return LocalDocumentParser()


def _build_mailer(settings: Settings, parts: _Parts) -> Mailer:
    if settings.effective_mail_backend == "smtp":
        from pantheon_adapters.mail.smtp import SmtpMailer

        return SmtpMailer.from_settings(settings)
    from pantheon_adapters.mail.outbox import OutboxMailer

    outbox = OutboxMailer(settings.data_dir / "outbox")
    parts.latest_login_link = outbox.latest_link
    return outbox


def _build_limiter(settings: Settings, clock: Clock, parts: _Parts) -> RateLimiter:
    if settings.redis_url:
        from pantheon_adapters.limits.redis import RedisRateLimiter

        redis_limiter = RedisRateLimiter.from_url(settings.redis_url,
                                                  timeouts=redis_timeouts(settings))
        parts.closers.append(redis_limiter.aclose)
        parts.checks["redis"] = redis_limiter.ping
        return redis_limiter
    from pantheon_adapters.limits.memory import MemoryRateLimiter

    return MemoryRateLimiter(clock)


def _build_slots(settings: Settings, clock: Clock, parts: _Parts) -> SlotLeases:
    """Running-turn slots: in Redis when it is configured (shared by every process), else
    counted in this process."""
    if settings.redis_url:
        from pantheon_adapters.limits.redis_slots import RedisSlotLeases

        redis_slots = RedisSlotLeases.from_url(settings.redis_url,
                                               timeouts=redis_timeouts(settings))
        parts.closers.append(redis_slots.aclose)
        return redis_slots
    from pantheon_adapters.limits.memory_slots import MemorySlotLeases

    return MemorySlotLeases(clock)


def _build_chat(settings: Settings, parts: _Parts, clock: Clock) -> ChatModel:
    backend = settings.llm_backend
    if backend == "offline":
        from pantheon_adapters.llm.offline import OfflineChatModel

        return OfflineChatModel(word_delay_s=settings.offline_word_delay_ms / 1000)
    from pantheon_adapters.llm.openai_compatible import (
        OPENROUTER_BASE_URL,
        OpenAICompatibleChatModel,
    )

    model = OpenAICompatibleChatModel(
        settings.llm_base_url or settings.openrouter_base_url or OPENROUTER_BASE_URL,
        api_key=settings.llm_api_key or settings.openrouter_api_key,
        provider_name=settings.llm_provider_name, app_url=settings.public_url,
        app_title="Pantheon", connect_s=settings.llm_connect_timeout_s,
        read_s=settings.llm_read_timeout_s)
    parts.closers.append(model.aclose)
    return _guarded(model, settings, clock)


def _guarded(model: ChatModel, settings: Settings, clock: Clock) -> ChatModel:
    """``model`` behind a circuit breaker (docs/degradation.md)."""
    from pantheon_adapters.llm.circuit_breaker import BreakerChatModel, CircuitBreaker

    breaker = CircuitBreaker(model.provider, clock, failures=settings.llm_breaker_failures,
                             cooldown_s=settings.llm_breaker_cooldown_s)
    return BreakerChatModel(model, breaker,
                            first_token_timeout_s=settings.llm_first_token_timeout_s)


def _build_events(settings: Settings, parts: _Parts) -> TurnEvents:
    if settings.redis_url:
        from pantheon_adapters.events.redis import RedisTurnEvents

        redis_events = RedisTurnEvents.from_url(settings.redis_url,
                                                timeouts=redis_timeouts(settings))
        parts.closers.append(redis_events.aclose)
        return redis_events
    from pantheon_adapters.events.memory import InProcessTurnEvents

    return InProcessTurnEvents()


def _build_identity(settings: Settings, parts: _Parts) -> IdentityVerifier | None:
    if not (settings.supabase_jwt_secret or settings.supabase_jwks_url):
        return None
    from pantheon_adapters.auth.supabase import SupabaseJwtVerifier

    verifier = SupabaseJwtVerifier.from_settings(settings)
    parts.closers.append(verifier.aclose)
    return verifier


def new_metrics() -> Metrics:
    """An empty metrics registry: one per process, made by its entry point. In a process
    started with ``PROMETHEUS_MULTIPROC_DIR`` (a worker of ``pantheon serve --workers N``)
    its values go to that directory, and its exposition merges every process's."""
    from pantheon_adapters.observability.metrics import Metrics
    from pantheon_adapters.observability.multiprocess import multiprocess_dir

    return Metrics(shared_dir=multiprocess_dir())


def shared_metrics_dir(processes: int) -> AbstractContextManager[Path | None]:
    """Around starting ``processes`` server processes: with more than one, a fresh private
    directory in ``PROMETHEUS_MULTIPROC_DIR`` for their metrics, removed afterwards."""
    from pantheon_adapters.observability.multiprocess import shared_metrics_dir as shared

    return shared(processes)


def setup_observability(settings: Settings, *, service: str) -> None:
    """Logs in the configured format with correlation ids, and Sentry when a DSN is set."""
    from pantheon_adapters.observability.process import setup_observability as setup

    setup(settings, service=service)


def check_metrics_access(settings: Settings, authorization: str | None) -> None:
    """Raise unless the caller may read ``/metrics`` (see docs/observability.md)."""
    from pantheon_adapters.observability.process import check_metrics_access as check

    check(settings, authorization)


def start_worker_metrics(settings: Settings, metrics: Metrics, *,
                         port_offset: int = 0) -> MetricsServer | None:
    """The worker's own ``/metrics`` server, when ``worker_metrics_port`` is set."""
    from pantheon_adapters.observability.process import start_worker_metrics as start

    return start(settings, metrics, port_offset=port_offset)


async def database_upgrade(settings: Settings, revision: str = "head") -> None:
    from pantheon_adapters.sql import migrate

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await anyio.to_thread.run_sync(migrate.upgrade, settings.effective_database_url, revision)


async def database_downgrade(settings: Settings, revision: str) -> None:
    from pantheon_adapters.sql import migrate

    await anyio.to_thread.run_sync(migrate.downgrade, settings.effective_database_url, revision)


async def database_current(settings: Settings) -> dict[str, str | None]:
    """``{"current": rev or None, "head": rev}``."""
    from pantheon_adapters.sql import migrate

    return await anyio.to_thread.run_sync(migrate.status, settings.effective_database_url)


def revision_known(revision: str | None) -> bool:
    """Whether this code's migrations hold ``revision`` (unknown: a newer release's)."""
    from pantheon_adapters.sql import migrate

    return migrate.is_known_revision(revision)
