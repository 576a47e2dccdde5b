"""Settings: every ``PANTHEON_*`` environment variable, read once per process by bootstrap."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "pantheon"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PANTHEON_", extra="ignore")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    auto_migrate: bool | None = None

    session_ttl_days: int = 30
    magic_link_ttl_minutes: int = 15
    cookie_secure: bool | None = None

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
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.public_url.startswith("https://")


def normalize_database_url(url: str) -> str:
    """Accept the URLs people paste (``postgres://``, ``postgresql://``, ``sqlite:///``)
    and pick the async driver Pantheon uses for each."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    return url
