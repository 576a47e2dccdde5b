"""The composition root: builds every adapter from :class:`Settings` and hands core its ports.

Called once per process (FastAPI lifespan, the CLI callback, worker start). Nothing
here runs at import time. Tests pass keyword overrides (a fake clock, a collecting
mailer, …) instead of patching.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import anyio

from pantheon_adapters.settings import Settings
from pantheon_adapters.system.clock import SystemClock
from pantheon_adapters.tasks.inprocess import InProcessTasks
from pantheon_core.ports.chat_model import ChatModel
from pantheon_core.ports.clock import Clock
from pantheon_core.ports.identity import IdentityVerifier
from pantheon_core.ports.mailer import Mailer
from pantheon_core.ports.rate_limiter import RateLimiter
from pantheon_core.ports.turn_events import TurnEvents
from pantheon_core.usecases.catalog import UseCases
from pantheon_core.usecases.deps import AuthPolicy, Deps, EnginePolicy

__all__ = ["Container", "Settings", "build_container", "database_current", "database_downgrade",
           "database_upgrade", "load_settings"]


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
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def readiness(self) -> dict[str, str]:
        """``{"database": "ok", "redis": "error: …"}`` for every dependency this process uses."""
        report: dict[str, str] = {}
        for name, check in self.readiness_checks.items():
            try:
                with anyio.fail_after(3):
                    await check()
                report[name] = "ok"
            except Exception as exc:
                report[name] = f"error: {type(exc).__name__}: {exc}"[:300]
        return report

    async def aclose(self) -> None:
        """Let running turns finish (or end them) first, while every adapter still works;
        then release the adapters in reverse order of creation."""
        await self.tasks.aclose()
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
) -> Container:
    from pantheon_adapters.sql.database import Database

    settings = settings or load_settings()
    clock = clock or SystemClock()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.should_auto_migrate:
        await database_upgrade(settings)
    parts = _Parts()
    database = Database(settings.effective_database_url)
    parts.closers.append(database.dispose)
    parts.checks["database"] = database.ping
    tasks = InProcessTasks()
    deps = Deps(
        uow=database.unit_of_work,
        clock=clock,
        mailer=mailer or _build_mailer(settings, parts),
        limiter=limiter or _build_limiter(settings, clock, parts),
        chat=chat or _build_chat(settings, parts),
        events=events or _build_events(settings, parts),
        tasks=tasks,
        identity=identity or _build_identity(settings, parts),
        auth=AuthPolicy(
            link_url=settings.public_url.rstrip("/") + "/api/v1/auth/verify?token={token}",
            magic_link_ttl=timedelta(minutes=settings.magic_link_ttl_minutes),
            session_ttl=timedelta(days=settings.session_ttl_days),
        ),
        engine=engine or EnginePolicy(
            max_attempts=settings.llm_max_attempts,
            first_token_timeout_s=settings.llm_first_token_timeout_s,
            call_timeout_s=settings.llm_call_timeout_s,
            model_overrides=dict(settings.llm_models),
        ),
    )
    return Container(settings=settings, use_cases=UseCases.build(deps), clock=clock,
                     tasks=tasks, readiness_checks=parts.checks,
                     latest_login_link=parts.latest_login_link, _closers=parts.closers)


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

        redis_limiter = RedisRateLimiter.from_url(settings.redis_url)
        parts.closers.append(redis_limiter.aclose)
        parts.checks["redis"] = redis_limiter.ping
        return redis_limiter
    from pantheon_adapters.limits.memory import MemoryRateLimiter

    return MemoryRateLimiter(clock)


def _build_chat(settings: Settings, parts: _Parts) -> ChatModel:
    backend = settings.llm_backend
    if backend == "offline":
        from pantheon_adapters.llm.offline import OfflineChatModel

        return OfflineChatModel(word_delay_s=settings.offline_word_delay_ms / 1000)
    from pantheon_adapters.llm.openai_compatible import (
        OPENROUTER_BASE_URL,
        OpenAICompatibleChatModel,
    )

    model = OpenAICompatibleChatModel(
        settings.llm_base_url or OPENROUTER_BASE_URL,
        api_key=settings.llm_api_key or settings.openrouter_api_key,
        provider_name=settings.llm_provider_name, app_url=settings.public_url,
        app_title="Pantheon", connect_s=settings.llm_connect_timeout_s,
        read_s=settings.llm_read_timeout_s)
    parts.closers.append(model.aclose)
    return model


def _build_events(settings: Settings, parts: _Parts) -> TurnEvents:
    if settings.redis_url:
        from pantheon_adapters.events.redis import RedisTurnEvents

        redis_events = RedisTurnEvents.from_url(settings.redis_url)
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
