"""Settings: every ``PANTHEON_*`` environment variable, read once per process by bootstrap."""

from __future__ import annotations

import json
import os
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_SECRET_KEY_CHARS = 16


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "pantheon"


class TopUpSetting(BaseModel):
    """One top-up pack on sale: ``{"id": "small", "credits": "500", "price_id": "price_…"}``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=40)
    credits: Decimal = Field(gt=0)
    price_id: str = Field(min_length=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PANTHEON_", extra="ignore")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    redis_url: str | None = None
    host: str = "127.0.0.1"
    # PANTHEON_PORT, else PORT: the variable hosting platforms (Railway, Heroku, …) set for
    # the web process.
    port: int = Field(default=8000, validation_alias=AliasChoices("PANTHEON_PORT", "PORT",
                                                                  "port"))
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    auto_migrate: bool | None = None

    session_ttl_days: int = 30
    magic_link_ttl_minutes: int = 15
    signin_links_per_email: int = Field(default=5, ge=1)  # links one address may ask for, 15 min
    signin_links_per_client: int = Field(default=20, ge=1)  # … one client address, in an hour
    # refused credentials (links, API tokens, sessions) one client address may send in the
    # window; the last is answered 429 too_many_failed_signins, and so is every sign-in from
    # that address for a window, a right one too (docs/security.md)
    signin_failures_per_client: int = Field(default=20, ge=1)
    signin_failures_window_s: int = Field(default=900, ge=1)
    cookie_secure: bool | None = None
    # Security (docs/security.md). "none" is for a web app on another site than the API.
    cookie_samesite: Literal["lax", "strict", "none"] = "lax"
    cookie_host_prefix: bool | None = None  # None: the __Host- name in production
    web_url: str | None = None  # the web app, when hosted apart from the API (e.g. Vercel)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    allow_insecure_http: bool = False  # production over plain http: only if you mean it
    forwarded_allow_ips: str = "127.0.0.1"  # proxies trusted for X-Forwarded-Proto/-For
    hsts_max_age_s: int = Field(default=31_536_000, ge=0)  # production over https; 0: off
    hsts_include_subdomains: bool = False

    mail_backend: Literal["outbox", "smtp"] | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "Pantheon <no-reply@pantheon.local>"
    smtp_starttls: bool = True
    smtp_timeout_s: float = 10.0

    supabase_jwt_secret: str | None = None
    supabase_jwks_url: str | None = None
    supabase_jwt_audience: str = "authenticated"
    supabase_jwt_issuer: str | None = None

    user: str | None = None  # the CLI's default --as

    openrouter_api_key: str | None = None
    openrouter_base_url: str | None = None  # OpenRouter's API root, for a proxy or a test server
    llm_base_url: str | None = None  # any OpenAI-compatible API (Ollama, vLLM, …)
    llm_api_key: str | None = None
    llm_provider_name: str = "openai-compatible"
    llm_models: dict[str, str] = Field(default_factory=dict)  # alias -> provider model id
    llm_connect_timeout_s: float = 10.0
    llm_read_timeout_s: float = 60.0
    llm_first_token_timeout_s: float = 45.0
    llm_call_timeout_s: float = 180.0
    llm_max_attempts: int = 3
    offline_word_delay_ms: int = 30
    # A running turn refreshes its heartbeat every turn_heartbeat_s; one silent for
    # turn_stale_after_s was left by a process that died, and is ended as `interrupted` (by
    # the API's sweep, at start and every 30 s, or by a client following its stream).
    turn_heartbeat_s: float = Field(default=5.0, gt=0, le=3600)
    turn_stale_after_s: float = Field(default=60.0, gt=0, le=86_400)

    tavily_api_key: str | None = None  # unset: web_search answers search_not_configured
    tavily_base_url: str | None = None

    storage_backend: Literal["local", "s3"] | None = None  # None: s3 when s3_bucket is set
    storage_dir: Path | None = None  # local backend; default data_dir/files
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None  # Supabase Storage, MinIO, …; None: AWS
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = Field(default=None, validate_default=True)

    # Signs upload and download URLs. Development without one: a random secret kept in
    # data_dir/secret_key. Production: required.
    secret_key: str | None = Field(default=None, validate_default=True)
    upload_ttl_minutes: int = Field(default=15, ge=1, le=24 * 60)

    jobs_in_process: bool | None = None  # None: in this process unless Redis carries the jobs
    jobs_namespace: str = "pantheon"  # Redis key prefix of the job queues
    worker_heartbeat_timeout_s: float = Field(default=60.0, gt=0)  # then its jobs are redelivered
    # Redis commands in a million that also run the queue's maintenance, which re-delivers the
    # jobs of workers silent for worker_heartbeat_timeout_s (Dramatiq's maintenance_chance)
    worker_maintenance_chance: int = Field(default=1_000, ge=0, le=1_000_000)
    # The usage rollup job stops this far behind the database's clock: the longest a usage
    # write may take to commit (analytics read what is newer from the raw events).
    rollup_lag_s: float = Field(default=30.0, ge=0, le=3600)
    # Retention (FR-DATA-001): chat and file data older than this many days is purged by the
    # purge_expired_content job; the purge jobs work in batches of retention_batch_size.
    retention_days: int = Field(default=90, ge=1, le=36_500)
    retention_batch_size: int = Field(default=200, ge=1, le=5_000)

    # Stripe (payments). Without a secret key, checkout answers payments_not_configured.
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = Field(default=None, validate_default=True)
    stripe_api_base: str | None = None  # a proxy or a test server; None: api.stripe.com
    stripe_price_starter: str | None = None  # the Stripe price id of each plan
    stripe_price_pro: str | None = None
    stripe_price_power: str | None = None
    stripe_topups: list[TopUpSetting] = Field(default_factory=list)  # JSON in the environment
    # webhook deliveries with a bad signature one client address may send in the window; the
    # last is answered 429 too_many_bad_signatures, and so is every delivery from that address
    # for a window, unverified
    webhook_bad_signatures_per_client: int = Field(default=30, ge=1)
    webhook_bad_signatures_window_s: int = Field(default=600, ge=1)
    welcome_credits: Decimal = Field(default=Decimal(100), ge=0)
    credit_value_usd: Decimal = Field(default=Decimal("0.015"), gt=0)  # for admin margins
    billing_success_url: str | None = None  # None: web app + /billing?checkout=success
    billing_cancel_url: str | None = None  # None: web app + /billing?checkout=cancelled
    billing_portal_return_url: str | None = None  # None: web app + /billing

    # Graceful degradation (docs/degradation.md): how many turns one user and the whole
    # service run at once, how fast one user may send, and the timeouts and retry budgets of
    # every outbound call.
    turns_running_per_user: int = Field(default=2, ge=1)  # beyond: 429 too_many_running_turns
    turns_running_max: int = Field(default=100, ge=0)  # beyond: 503 server_busy; 0 drains
    sends_per_minute: int = Field(default=20, ge=1)  # per user; beyond: 429 rate_limited
    turn_slot_ttl_s: float = Field(default=60.0, ge=1)  # a dead process's slots free after
    turns_retry_after_s: int = Field(default=5, ge=1)  # Retry-After of refused sends
    llm_breaker_failures: int = Field(default=5, ge=1)  # failures in a row that open it
    llm_breaker_cooldown_s: float = Field(default=30.0, gt=0)  # open this long, then a probe
    search_timeout_s: float = Field(default=30.0, gt=0)  # a whole web_search tool call
    tavily_timeout_s: float = Field(default=15.0, gt=0)  # one Tavily attempt, all in
    tavily_connect_timeout_s: float = Field(default=5.0, gt=0)
    tavily_max_attempts: int = Field(default=3, ge=1)
    stripe_timeout_s: float = Field(default=20.0, gt=0)  # each read of one attempt
    stripe_connect_timeout_s: float = Field(default=5.0, gt=0)
    stripe_max_retries: int = Field(default=2, ge=0)  # network retries (idempotent)
    stripe_total_timeout_s: float = Field(default=45.0, gt=0)  # a whole call, retries in
    smtp_connect_timeout_s: float = Field(default=10.0, gt=0)
    smtp_total_timeout_s: float = Field(default=30.0, gt=0)  # a whole send, retries in
    smtp_max_attempts: int = Field(default=2, ge=1)  # retried only if it never connected
    s3_connect_timeout_s: float = Field(default=5.0, gt=0)
    s3_read_timeout_s: float = Field(default=60.0, gt=0)
    s3_max_attempts: int = Field(default=3, ge=1)
    s3_total_timeout_s: float = Field(default=30.0, gt=0)  # calls without a streamed body
    redis_connect_timeout_s: float = Field(default=3.0, gt=0)
    redis_timeout_s: float = Field(default=3.0, gt=0)  # each command (blocking reads: + wait)
    redis_retries: int = Field(default=1, ge=0)  # on connection errors and timeouts
    jwks_timeout_s: float = Field(default=5.0, gt=0)  # Supabase JWKS: each read
    jwks_total_timeout_s: float = Field(default=8.0, gt=0)  # a whole fetch, retries in
    jwks_max_attempts: int = Field(default=2, ge=1)
    provider_stats_timeout_s: float = Field(default=15.0, gt=0)  # OpenRouter generation stats
    database_connect_timeout_s: float = Field(default=10.0, gt=0)  # PostgreSQL
    database_pool_timeout_s: float = Field(default=10.0, gt=0)  # waiting for a free connection
    # PostgreSQL connections a process keeps open, and how many more it may open for a moment
    # (closed again when returned: each is a new server process, so the default is none)
    database_pool_size: int = Field(default=15, ge=1)
    database_max_overflow: int = Field(default=0, ge=0)

    # Observability (docs/observability.md)
    log_format: Literal["json", "text"] | None = None  # None: json in production, else text
    sentry_dsn: str | None = None  # unset: no error reports (and sentry_sdk is not imported)
    sentry_environment: str | None = None  # None: env
    sentry_release: str | None = None  # None: pantheon@<installed version>
    sentry_traces_sample_rate: float = Field(default=0.0, ge=0, le=1)
    metrics_token: str | None = None  # bearer token for /metrics; needed in production
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)  # None: off
    worker_metrics_host: str = "127.0.0.1"
    readiness_timeout_s: float = Field(default=2.0, gt=0, le=30)  # per /readyz check

    @field_validator("stripe_secret_key")
    @classmethod
    def _stripe_key_is_secret(cls, value: str | None) -> str | None:
        if value is not None and value.startswith("pk_"):
            raise ValueError("PANTHEON_STRIPE_SECRET_KEY holds a publishable key (pk_…); use a "
                             "secret key (sk_…) or a restricted key (rk_…).")
        return value or None

    @field_validator("stripe_webhook_secret")
    @classmethod
    def _stripe_webhook_secret_with_key(cls, value: str | None,
                                        info: ValidationInfo) -> str | None:
        if info.data.get("stripe_secret_key") and not value:
            raise ValueError(
                "PANTHEON_STRIPE_WEBHOOK_SECRET is required when PANTHEON_STRIPE_SECRET_KEY is "
                "set: it verifies Stripe's webhook signatures. Copy the endpoint's signing "
                "secret (whsec_…) from the Stripe dashboard or `stripe listen`.")
        return value or None

    @field_validator("stripe_topups")
    @classmethod
    def _topup_ids_unique(cls, value: list[TopUpSetting]) -> list[TopUpSetting]:
        ids = [pack.id for pack in value]
        if len(set(ids)) != len(ids):
            raise ValueError(f"PANTHEON_STRIPE_TOPUPS has duplicate pack ids: {ids}.")
        return value

    @field_validator("s3_secret_access_key")
    @classmethod
    def _s3_complete(cls, value: str | None, info: ValidationInfo) -> str | None:
        data = info.data
        backend = data.get("storage_backend") or ("s3" if data.get("s3_bucket") else "local")
        if backend == "s3":
            missing = [f"PANTHEON_{name.upper()}" for name, given in (
                ("s3_bucket", data.get("s3_bucket")),
                ("s3_access_key_id", data.get("s3_access_key_id")),
                ("s3_secret_access_key", value)) if not given]
            if missing:
                raise ValueError(f"S3 file storage needs {', '.join(missing)}.")
        return value

    @field_validator("turn_stale_after_s")
    @classmethod
    def _stale_after_beats(cls, value: float, info: ValidationInfo) -> float:
        heartbeat = info.data.get("turn_heartbeat_s")
        if heartbeat is not None and value < 3 * heartbeat:
            raise ValueError(
                f"PANTHEON_TURN_STALE_AFTER_S ({value}) must be at least 3 × "
                f"PANTHEON_TURN_HEARTBEAT_S ({heartbeat}): a turn that is still running must "
                "never look abandoned between two heartbeats.")
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_key_for_production(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and len(value) < MIN_SECRET_KEY_CHARS:
            raise ValueError(f"PANTHEON_SECRET_KEY must be at least {MIN_SECRET_KEY_CHARS} "
                             "characters long.")
        if value is None and info.data.get("env") == "production":
            raise ValueError(
                "PANTHEON_SECRET_KEY is required when PANTHEON_ENV=production: it signs upload "
                "and download links. Make one with: python -c \"import secrets; "
                "print(secrets.token_urlsafe(32))\"")
        return value

    @field_validator("public_url", "web_url")
    @classmethod
    def _site_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            web_origin(value, setting=f"PANTHEON_{(info.field_name or '').upper()}")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins_list(cls, value: object) -> object:
        """A comma- or space-separated list, or a JSON array."""
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else text.replace(",", " ").split()
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins_exact(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(web_origin(item, setting="PANTHEON_CORS_ORIGINS", exact=True)
                                  for item in value))

    @model_validator(mode="after")
    def _transport_security(self) -> Settings:
        """HTTPS-only production, and cookie settings browsers would refuse."""
        problems = [*self._insecure_production(), *self._cookie_conflicts()]
        if problems:
            raise ValueError(" ".join(problems))
        return self

    def _insecure_production(self) -> list[str]:
        if self.env != "production" or self.allow_insecure_http:
            return []
        fix = ("Use https:// addresses (TLS ends at your proxy or platform), or set "
               "PANTHEON_ALLOW_INSECURE_HTTP=true if plain http is really intended.")
        plain = [f"{name}={url}" for name, url in (
            ("PANTHEON_PUBLIC_URL", self.public_url), ("PANTHEON_WEB_URL", self.web_url),
            *(("PANTHEON_CORS_ORIGINS", origin) for origin in self.cors_origins))
            if url is not None and url.lower().startswith("http://")]
        problems = [f"PANTHEON_ENV=production needs HTTPS, but {', '.join(plain)} "
                    f"{'is' if len(plain) == 1 else 'are'} plain http. {fix}"] if plain else []
        if self.cookie_secure is False:
            problems.append("PANTHEON_COOKIE_SECURE=false is refused when PANTHEON_ENV="
                            f"production: session cookies go over HTTPS only. {fix}")
        return problems

    def _cookie_conflicts(self) -> list[str]:
        problems = []
        if self.cookie_samesite == "none" and not self.secure_cookies:
            problems.append("PANTHEON_COOKIE_SAMESITE=none needs Secure cookies (browsers drop "
                            "SameSite=None cookies without Secure): serve the API over https "
                            "(PANTHEON_PUBLIC_URL=https://…) or set PANTHEON_COOKIE_SECURE=true.")
        if self.cookie_host_prefix and not self.secure_cookies:
            problems.append("PANTHEON_COOKIE_HOST_PREFIX=true needs Secure cookies (a __Host- "
                            "cookie must be Secure): serve the API over https.")
        return problems

    @property
    def public_origin(self) -> str:
        """``scheme://host[:port]`` of ``public_url``: where the API (and its pages) live."""
        return web_origin(self.public_url, setting="PANTHEON_PUBLIC_URL")

    @property
    def effective_web_url(self) -> str:
        """Where the web app lives: ``web_url``, else the API's own address (served at /)."""
        return (self.web_url or self.public_url).rstrip("/")

    @property
    def allowed_origins(self) -> list[str]:
        """Browser origins whose credentialed requests the API accepts: the web app's (when
        it lives elsewhere) and ``cors_origins``. The API's own origin is always allowed."""
        extra = [web_origin(self.web_url, setting="PANTHEON_WEB_URL")] if self.web_url else []
        return [o for o in dict.fromkeys([*extra, *self.cors_origins]) if o != self.public_origin]

    @property
    def session_cookie_host_prefix(self) -> bool:
        """Name the session cookie ``__Host-…`` (Secure, host-only, Path=/): by default in
        production, so no sibling subdomain can plant or overwrite it."""
        if self.cookie_host_prefix is not None:
            return self.cookie_host_prefix
        return self.env == "production" and self.secure_cookies

    @property
    def hsts_header(self) -> str | None:
        """``Strict-Transport-Security`` for an HTTPS production deployment, else ``None``."""
        if (self.env != "production" or self.hsts_max_age_s == 0
                or not self.public_url.lower().startswith("https://")):
            return None
        subdomains = "; includeSubDomains" if self.hsts_include_subdomains else ""
        return f"max-age={self.hsts_max_age_s}{subdomains}"

    @property
    def llm_backend(self) -> str:
        """``openrouter``, ``openai-compatible`` (a base URL) or ``offline`` (the default)."""
        if self.llm_base_url:
            return "openai-compatible"
        return "openrouter" if self.openrouter_api_key else "offline"

    @property
    def effective_database_url(self) -> str:
        """The configured database, or the embedded SQLite file under ``data_dir``."""
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{self.data_dir / 'pantheon.db'}"

    @property
    def is_embedded_database(self) -> bool:
        return not self.database_url

    @property
    def should_auto_migrate(self) -> bool:
        """Embedded SQLite migrates itself at start; a real database only with ``auto_migrate``."""
        return self.is_embedded_database if self.auto_migrate is None else self.auto_migrate

    @property
    def effective_mail_backend(self) -> str:
        if self.mail_backend:
            return self.mail_backend
        return "smtp" if self.smtp_host else "outbox"

    @property
    def effective_storage_backend(self) -> str:
        if self.storage_backend:
            return self.storage_backend
        return "s3" if self.s3_bucket else "local"

    @property
    def effective_storage_dir(self) -> Path:
        return self.storage_dir or self.data_dir / "files"

    @property
    def effective_jobs_in_process(self) -> bool:
        """Run queued jobs on a worker thread of this process: by default only without Redis
        (with Redis, ``pantheon worker`` processes consume them)."""
        if self.jobs_in_process is not None:
            return self.jobs_in_process
        return not self.redis_url

    @property
    def effective_log_format(self) -> str:
        """``json`` (one object per line) in production, ``text`` in development, unless
        ``log_format`` says otherwise."""
        if self.log_format is not None:
            return self.log_format
        return "json" if self.env == "production" else "text"

    def signing_secret(self) -> str:
        """``secret_key``, or (development) the secret kept in ``data_dir/secret_key``,
        created on first use, readable by its owner only, and the same for every process
        sharing the data directory."""
        if self.secret_key:
            return self.secret_key
        return _stored_secret(self.data_dir / "secret_key")

    @property
    def stripe_plan_prices(self) -> dict[str, str]:
        """Plan id → Stripe price id, for the plans that have one."""
        prices = {"starter": self.stripe_price_starter, "pro": self.stripe_price_pro,
                  "power": self.stripe_price_power}
        return {plan: price for plan, price in prices.items() if price}

    @property
    def secure_cookies(self) -> bool:
        """Mark cookies Secure: as set, else on an https deployment and always in production
        (unless plain http was explicitly allowed there)."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        if self.env == "production" and not self.allow_insecure_http:
            return True
        return self.public_url.lower().startswith("https://")


def _stored_secret(path: Path) -> str:
    """Read the secret at ``path``, creating it first if needed. Concurrent first calls
    agree: the file appears whole (hard-linked from a complete temporary file) or not at
    all, and the first link wins."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            os.link(temp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            temp.unlink(missing_ok=True)
    secret = path.read_text(encoding="utf-8").strip()
    if len(secret) < MIN_SECRET_KEY_CHARS:
        raise ValueError(f"{path} does not hold a usable secret; delete it to make a new one, "
                         "or set PANTHEON_SECRET_KEY.")
    return secret


def normalize_database_url(url: str) -> str:
    """Accept the URLs people paste (``postgres://``, ``postgresql://``, ``sqlite:///``)
    and pick the async driver Pantheon uses for each."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    return url


def web_origin(url: str, *, setting: str, exact: bool = False) -> str:
    """``scheme://host[:port]`` of an http(s) URL (lower case, default port dropped).
    ``exact``: the value must be an origin itself (no path beyond ``/``, no query)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{setting}: {url!r} is not a valid URL ({exc}).") from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{setting}: {url!r} must be an http:// or https:// URL with a host, "
                         "e.g. https://app.example.com.")
    if parts.username or parts.password or parts.query or parts.fragment or (
            exact and parts.path not in ("", "/")):
        kind = "an origin (scheme://host[:port], nothing after)" if exact else "a plain URL"
        raise ValueError(f"{setting}: {url!r} must be {kind}, e.g. https://app.example.com.")
    scheme = parts.scheme.lower()
    default = {"http": 80, "https": 443}[scheme]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")
