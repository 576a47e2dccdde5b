"""The schema, as SQLAlchemy Core tables (imperative: domain classes stay plain).

This module is the target of ``alembic`` autogenerate; ``tests/integration/test_migrations.py``
checks that the migrations build exactly this schema on SQLite and PostgreSQL. Constraint
and index names come from the naming convention, so migrations can refer to them.

Ids are UUID strings (``String(36)``); timestamps are :class:`UTCDateTime`; money is
:class:`ExactDecimal` (credits to 6 places, US dollars to 8); snapshots (a turn's roster,
a direct session's agent) and free-form payloads (step and event data) are JSON.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from pantheon_adapters.sql.coltypes import ExactDecimal, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

ID = 36
LIVE = text("deleted_at IS NULL")


def _id(name: str = "id") -> Column[str]:
    return Column(name, String(ID), primary_key=True)


def _owner(name: str, target: str, *, index: bool = True) -> Column[str]:
    """A reference to a parent row that goes when the parent goes."""
    return Column(name, String(ID), ForeignKey(target, ondelete="CASCADE"), nullable=False,
                  index=index)


def _at(name: str, *, nullable: bool = False) -> Column[datetime]:
    return Column(name, UTCDateTime(), nullable=nullable)


def _credits(name: str) -> Column[Decimal]:
    return Column(name, ExactDecimal(18, 6), nullable=False, server_default="0")


def _usd(name: str) -> Column[Decimal]:
    return Column(name, ExactDecimal(18, 8), nullable=False, server_default="0")


def _count(name: str) -> Column[int]:
    return Column(name, Integer, nullable=False, server_default="0")


users = Table(
    "users", metadata,
    _id(),
    Column("email", String(254), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("display_name", Text, nullable=True),
    _at("created_at"),
)

admin_roles = Table(
    "admin_roles", metadata,
    _owner("user_id", "users.id", index=False),
    Column("role", String(16), nullable=False),
    _at("granted_at"),
    PrimaryKeyConstraint("user_id", "role"),
)

user_identities = Table(
    "user_identities", metadata,
    Column("provider", String(64), nullable=False),
    Column("subject", String(255), nullable=False),
    _owner("user_id", "users.id"),
    _at("created_at"),
    PrimaryKeyConstraint("provider", "subject"),
)

rooms = Table(
    "rooms", metadata,
    _id(),
    _owner("owner_id", "users.id"),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("current_mode", String(16), nullable=False),
    Column("pending_mode", String(16), nullable=True),
    _at("created_at"),
    _at("updated_at"),
    _at("deleted_at", nullable=True),
)

room_agents = Table(
    "room_agents", metadata,
    _id(),
    _owner("room_id", "rooms.id"),
    Column("name", String(64), nullable=False),
    Column("name_key", String(64), nullable=False),
    Column("model_alias", String(32), nullable=False),
    Column("role_prompt", Text, nullable=False),
    Column("tool_web_search", Boolean, nullable=False),
    Column("tool_files", Boolean, nullable=False),
    Column("position", Integer, nullable=False),
    _at("created_at"),
    _at("updated_at"),
    _at("deleted_at", nullable=True),
)

# Names are unique among a room's live agents only: a removed agent frees its name.
Index("uq_room_agents_live_name_key", room_agents.c.room_id, room_agents.c.name_key,
      unique=True, sqlite_where=LIVE, postgresql_where=LIVE)

room_sessions = Table(
    "room_sessions", metadata,
    _id(),
    _owner("room_id", "rooms.id", index=False),
    _owner("user_id", "users.id"),
    Column("title", String(200), nullable=False),
    _at("created_at"),
    _at("updated_at"),
    Column("memory_summary", Text, nullable=False, server_default=""),
    _at("memory_summary_through", nullable=True),
)

Index("ix_room_sessions_room_id_created_at", room_sessions.c.room_id, room_sessions.c.created_at)

direct_sessions = Table(
    "direct_sessions", metadata,
    _id(),
    _owner("user_id", "users.id", index=False),
    Column("agent", JSON, nullable=False),
    # No foreign key: the session owns a copy of the agent, which may be deleted later.
    Column("source_agent_id", String(ID), nullable=True),
    Column("title", String(200), nullable=False),
    Column("memory_summary", Text, nullable=False, server_default=""),
    _at("memory_summary_through", nullable=True),
    _at("created_at"),
    _at("updated_at"),
    _at("deleted_at", nullable=True),
)

Index("ix_direct_sessions_user_id_updated_at", direct_sessions.c.user_id,
      direct_sessions.c.updated_at)

turns = Table(
    "turns", metadata,
    _id(),
    Column("room_id", String(ID), ForeignKey("rooms.id", ondelete="CASCADE"), nullable=True),
    _owner("user_id", "users.id"),
    Column("mode", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("roster", JSON, nullable=False),
    Column("selected", JSON, nullable=False),
    _at("created_at"),
    _at("finished_at", nullable=True),
    Column("session_id", String(ID), ForeignKey("room_sessions.id", ondelete="CASCADE"),
           nullable=True),
    Column("direct_session_id", String(ID),
           ForeignKey("direct_sessions.id", ondelete="CASCADE"), nullable=True),
    _count("last_seq"),
    _credits("credits"),
    Column("error_code", String(64), nullable=True),
    Column("error_message", Text, nullable=True),
    _at("heartbeat_at", nullable=True),
    _at("cancel_requested_at", nullable=True),
)

Index("ix_turns_room_id_created_at", turns.c.room_id, turns.c.created_at)
Index("ix_turns_session_id_created_at", turns.c.session_id, turns.c.created_at)
Index("ix_turns_direct_session_id_created_at", turns.c.direct_session_id, turns.c.created_at)
Index("ix_turns_status_heartbeat_at", turns.c.status, turns.c.heartbeat_at)

turn_steps = Table(
    "turn_steps", metadata,
    _id(),
    _owner("turn_id", "turns.id", index=False),
    Column("index", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    # A snapshot, not a reference: the agent may be deleted while its steps remain.
    Column("agent_id", String(ID), nullable=True),
    Column("agent_name", String(64), nullable=False),
    Column("model_alias", String(32), nullable=False),
    Column("model", String(200), nullable=False),
    Column("provider", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("content", Text, nullable=False),
    Column("instruction", Text, nullable=True),
    _at("started_at"),
    _at("finished_at", nullable=True),
    Column("error_code", String(64), nullable=True),
    Column("error_message", Text, nullable=True),
    _count("calls"),
    _count("prompt_tokens"),
    _count("completion_tokens"),
    _count("cached_tokens"),
    _credits("credits"),
    _usd("provider_cost_usd"),
    Column("data", JSON, nullable=False),
    UniqueConstraint("turn_id", "index"),
)

turn_events = Table(
    "turn_events", metadata,
    _owner("turn_id", "turns.id", index=False),
    Column("seq", Integer, nullable=False),
    Column("type", String(32), nullable=False),
    Column("step_id", String(ID), nullable=True),
    _at("ts"),
    Column("data", JSON, nullable=False),
    PrimaryKeyConstraint("turn_id", "seq"),
)

# Usage is a financial record: rows outlive the rooms, sessions, turns and agents they
# describe, so they hold those ids without foreign keys. Append-only: nothing updates or
# deletes them.
llm_call_events = Table(
    "llm_call_events", metadata,
    _id(),
    Column("user_id", String(ID), nullable=False),
    Column("room_id", String(ID), nullable=True),
    Column("direct_session_id", String(ID), nullable=True),
    Column("turn_id", String(ID), nullable=False, index=True),
    Column("step_id", String(ID), nullable=False),
    Column("agent_id", String(ID), nullable=True),
    Column("provider", String(64), nullable=False),
    Column("model", String(200), nullable=False),
    Column("model_alias", String(32), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("cached_tokens", Integer, nullable=False),
    Column("cached_tokens_reported", Boolean, nullable=False),
    Column("total_tokens", Integer, nullable=False),
    Column("provider_cost_usd", ExactDecimal(18, 8), nullable=False),
    Column("credits_burned", ExactDecimal(18, 6), nullable=False),
    Column("latency_ms", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("error_code", String(64), nullable=True),
    Column("pricing_version", String(32), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("generation_id", String(255), nullable=True),
    _at("created_at"),
    # Stamped by the database on insert (migration 0006): the usage rollups' clock.
    Column("recorded_at", UTCDateTime(), nullable=False, server_default=FetchedValue()),
)

Index("ix_llm_call_events_user_id_created_at", llm_call_events.c.user_id,
      llm_call_events.c.created_at)
Index("ix_llm_call_events_created_at", llm_call_events.c.created_at)
Index("ix_llm_call_events_recorded_at", llm_call_events.c.recorded_at)

pricing_versions = Table(
    "pricing_versions", metadata,
    Column("version", String(32), primary_key=True),
    Column("multiplier_floor", ExactDecimal(8, 4), nullable=False),
    Column("fresh_weight", ExactDecimal(8, 4), nullable=False),
    Column("cached_weight", ExactDecimal(8, 4), nullable=False),
    Column("output_weight", ExactDecimal(8, 4), nullable=False),
    Column("oe_per_credit", ExactDecimal(18, 6), nullable=False),
    Column("tool_credits", JSON, nullable=False),  # tool -> credits per call, as a string
    Column("metadata", JSON, nullable=False),
    _at("effective_from"),
    Column("is_current", Boolean, nullable=False),
)

# At most one version is in force.
CURRENT = text("is_current")
Index("uq_pricing_versions_current", pricing_versions.c.is_current, unique=True,
      sqlite_where=CURRENT, postgresql_where=CURRENT)

model_pricing = Table(
    "model_pricing", metadata,
    Column("pricing_version", String(32),
           ForeignKey("pricing_versions.version", ondelete="CASCADE"), nullable=False),
    Column("alias", String(32), nullable=False),
    Column("provider_model_id", String(200), nullable=False),
    Column("input_usd_per_mtok", ExactDecimal(12, 6), nullable=False),
    Column("cached_usd_per_mtok", ExactDecimal(12, 6), nullable=False),
    Column("output_usd_per_mtok", ExactDecimal(12, 6), nullable=False),
    Column("credit_multiplier", ExactDecimal(8, 4), nullable=False),
    Column("context_window", Integer, nullable=False),
    PrimaryKeyConstraint("pricing_version", "alias"),
)

app_settings = Table(
    "app_settings", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    _at("updated_at"),
)

# A file belongs to exactly one scope, a room or a direct session, and goes with it.
files = Table(
    "files", metadata,
    _id(),
    _owner("owner_id", "users.id", index=False),
    Column("room_id", String(ID), ForeignKey("rooms.id", ondelete="CASCADE"), nullable=True),
    Column("direct_session_id", String(ID),
           ForeignKey("direct_sessions.id", ondelete="CASCADE"), nullable=True),
    Column("name", String(200), nullable=False),  # sanitised display name, never a path
    Column("kind", String(16), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("blob_key", String(255), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("text_key", String(255), nullable=True),
    _count("text_chars"),
    Column("page_offsets", JSON, nullable=False),  # character offset where each page starts
    Column("error_code", String(64), nullable=True),
    Column("error_message", Text, nullable=True),
    _count("parse_attempts"),
    _at("created_at"),
    _at("updated_at"),
    _at("deleted_at", nullable=True),
    CheckConstraint("(room_id IS NULL) <> (direct_session_id IS NULL)", name="one_scope"),
)

Index("ix_files_room_id_deleted_at", files.c.room_id, files.c.deleted_at)
Index("ix_files_direct_session_id_deleted_at", files.c.direct_session_id, files.c.deleted_at)

# One row per execution of a background job; ``message_id`` is the queue's id, shared by
# every attempt of one job.
job_runs = Table(
    "job_runs", metadata,
    _id(),
    Column("name", String(64), nullable=False),
    Column("message_id", String(128), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("subject", String(255), nullable=False, server_default=""),
    _at("started_at"),
    _at("finished_at", nullable=True),
    Column("duration_ms", BigInteger, nullable=True),
    Column("error", Text, nullable=True),
)

Index("ix_job_runs_name_started_at", job_runs.c.name, job_runs.c.started_at)

# Tool calls and file reads are usage records too (FR-TOOL-007): ids without foreign keys,
# append-only.
tool_call_events = Table(
    "tool_call_events", metadata,
    _id(),
    Column("user_id", String(ID), nullable=False),
    Column("turn_id", String(ID), nullable=False, index=True),
    Column("step_id", String(ID), nullable=False),
    Column("agent_id", String(ID), nullable=True),
    Column("room_id", String(ID), nullable=True),
    Column("direct_session_id", String(ID), nullable=True),
    Column("tool", String(128), nullable=False),  # as the model named it
    Column("arguments_summary", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("latency_ms", Integer, nullable=False),
    Column("credits", ExactDecimal(18, 6), nullable=False),
    Column("pricing_version", String(32), nullable=False),
    Column("round", Integer, nullable=False),
    Column("result_summary", Text, nullable=False),
    Column("error_code", String(64), nullable=True),
    Column("error_message", Text, nullable=True),
    _at("created_at"),
)

Index("ix_tool_call_events_user_id_created_at", tool_call_events.c.user_id,
      tool_call_events.c.created_at)

file_access_events = Table(
    "file_access_events", metadata,
    _id(),
    Column("file_id", String(ID), nullable=False, index=True),
    Column("user_id", String(ID), nullable=False),
    Column("turn_id", String(ID), nullable=False, index=True),
    Column("step_id", String(ID), nullable=False),
    Column("agent_id", String(ID), nullable=True),
    Column("tool_call_id", String(ID), nullable=False),
    Column("chars_returned", Integer, nullable=False),
    Column("page_from", Integer, nullable=True),
    Column("page_to", Integer, nullable=True),
    _at("created_at"),
)

magic_links = Table(
    "magic_links", metadata,
    _id(),
    Column("email", String(254), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    _at("created_at"),
    _at("expires_at"),
    _at("used_at", nullable=True),
)

auth_sessions = Table(
    "auth_sessions", metadata,
    _id(),
    _owner("user_id", "users.id"),
    Column("token_hash", String(64), nullable=False, unique=True),
    _at("created_at"),
    _at("expires_at"),
    _at("revoked_at", nullable=True),
)

api_tokens = Table(
    "api_tokens", metadata,
    _id(),
    _owner("user_id", "users.id"),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("hint", String(32), nullable=False),
    _at("created_at"),
    _at("expires_at", nullable=True),
    _at("last_used_at", nullable=True),
    _at("revoked_at", nullable=True),
)

# A wallet caches the sums of its ledger entries (and the user's plan and admin policy); it
# goes with its user. The ledger does not: it is a financial record, append-only (triggers
# refuse UPDATE and DELETE, see migration 0004), holding the user id without a foreign key,
# so it outlives the user and never blocks a delete.
wallets = Table(
    "wallets", metadata,
    Column("user_id", String(ID), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    _credits("plan_balance"),
    _credits("topup_balance"),
    Column("plan_id", String(32), nullable=True),
    _at("period_end", nullable=True),
    _at("updated_at", nullable=True),
    Column("stripe_customer_id", String(255), nullable=True, unique=True),
    Column("subscription_id", String(255), nullable=True),
    Column("subscription_status", String(32), nullable=True),
    Column("monthly_cap", ExactDecimal(18, 6), nullable=True),
    Column("allowed_models", JSON(none_as_null=True), nullable=True),  # a list of aliases
    _count("entries"),
)

credit_transactions = Table(
    "credit_transactions", metadata,
    _id(),
    Column("user_id", String(ID), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("bucket", String(16), nullable=False),
    Column("amount", ExactDecimal(18, 6), nullable=False),  # signed
    Column("idempotency_key", String(255), nullable=False, unique=True),
    _at("created_at"),
    Column("reference", String(255), nullable=False, server_default=""),
    Column("reservation_id", String(64), nullable=True, index=True),
    Column("note", Text, nullable=False, server_default=""),
    Column("actor_id", String(64), nullable=True),
)

Index("ix_credit_transactions_user_id_created_at", credit_transactions.c.user_id,
      credit_transactions.c.created_at)

# Provider (Stripe) events already processed: a webhook delivery claims its event id in the
# transaction that applies it, so a redelivery does nothing (FR-BILL-005).
payment_events = Table(
    "payment_events", metadata,
    Column("event_id", String(255), primary_key=True),
    Column("kind", String(64), nullable=False),
    _at("processed_at"),
)

# The audit log (FR-ADMIN-004): every admin write and every refused admin attempt, with who
# (and in what role), what, on what, the values before and after, the request id and the
# client. No foreign keys: the log outlives users. Append-only: triggers refuse UPDATE and
# DELETE (see migration 0005).
audit_events = Table(
    "audit_events", metadata,
    _id(),
    Column("actor_id", String(64), nullable=True),
    Column("actor_label", String(254), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(255), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("before", JSON, nullable=False),
    Column("after", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("request_id", String(128), nullable=True),
    Column("client", String(255), nullable=True),
    _at("created_at"),
)

Index("ix_audit_events_created_at", audit_events.c.created_at)
Index("ix_audit_events_actor_id_created_at", audit_events.c.actor_id, audit_events.c.created_at)
Index("ix_audit_events_action_created_at", audit_events.c.action, audit_events.c.created_at)
Index("ix_audit_events_target_created_at", audit_events.c.target, audit_events.c.created_at)


# Usage rollups (FR-ADMIN-002): what analytics read instead of ``llm_call_events``. Each row
# is recomputed from the raw events (or, for months, from the days), never incremented, so a
# rebuild of any range is idempotent. Sums keep the raw columns' scales (dollars to 8 places,
# credits to 6). User ids without foreign keys, as in the raw events.
def _tally(name: str) -> Column[int]:
    return Column(name, BigInteger, nullable=False)


def _usage_sums() -> list[Column[Any]]:
    return [_tally("calls"), _tally("failed_calls"), _tally("prompt_tokens"),
            _tally("cached_tokens"), _tally("completion_tokens"),
            Column("provider_cost_usd", ExactDecimal(18, 8), nullable=False),
            Column("credits", ExactDecimal(18, 6), nullable=False)]


usage_rollups_daily = Table(
    "usage_rollups_daily", metadata,
    Column("day", Date, nullable=False),  # the UTC day of the events
    Column("user_id", String(ID), nullable=False),
    Column("model_alias", String(32), nullable=False),
    *_usage_sums(),
    PrimaryKeyConstraint("day", "user_id", "model_alias"),
)

Index("ix_usage_rollups_daily_user_id_day", usage_rollups_daily.c.user_id,
      usage_rollups_daily.c.day)

usage_rollups_monthly = Table(
    "usage_rollups_monthly", metadata,
    Column("month", Date, nullable=False),  # the first day of the month
    Column("user_id", String(ID), nullable=False),
    Column("model_alias", String(32), nullable=False),
    *_usage_sums(),
    PrimaryKeyConstraint("month", "user_id", "model_alias"),
)

Index("ix_usage_rollups_monthly_user_id_month", usage_rollups_monthly.c.user_id,
      usage_rollups_monthly.c.month)

# One row per user active on a UTC day (at least one LLM call, failed or not): DAU/WAU/MAU.
user_activity_daily = Table(
    "user_activity_daily", metadata,
    Column("day", Date, nullable=False),
    Column("user_id", String(ID), nullable=False),
    _tally("calls"),
    Column("credits", ExactDecimal(18, 6), nullable=False),
    PrimaryKeyConstraint("day", "user_id"),
)


# Retention (FR-DATA-001..003, migration 0007). What a purge removed from the trash leaves a
# tombstone (ids and dates, no content) so a late restore gets a clear answer; the stored
# objects of purged files wait in ``blob_purges`` (queued in the transaction that deletes
# their rows) until the blob store has deleted them.
tombstones = Table(
    "tombstones", metadata,
    Column("kind", String(16), nullable=False),  # room, agent, direct_session, file
    Column("id", String(ID), nullable=False),
    Column("owner_id", String(ID), nullable=False),
    _at("deleted_at", nullable=True),
    _at("purged_at"),
    Column("reason", String(16), nullable=False),  # grace_period or retention
    PrimaryKeyConstraint("kind", "id"),
)

Index("ix_tombstones_purged_at", tombstones.c.purged_at)

blob_purges = Table(
    "blob_purges", metadata,
    Column("blob_key", String(255), primary_key=True),
    _at("queued_at"),
)

Index("ix_blob_purges_queued_at", blob_purges.c.queued_at)

# The purge jobs' scans: the trash by deletion time (partial: only deleted rows), content by
# creation time, conversations by last activity.
DELETED = text("deleted_at IS NOT NULL")
Index("ix_rooms_deleted_at", rooms.c.deleted_at, sqlite_where=DELETED,
      postgresql_where=DELETED)
Index("ix_room_agents_deleted_at", room_agents.c.deleted_at, sqlite_where=DELETED,
      postgresql_where=DELETED)
Index("ix_direct_sessions_deleted_at", direct_sessions.c.deleted_at, sqlite_where=DELETED,
      postgresql_where=DELETED)
Index("ix_files_deleted_at", files.c.deleted_at, sqlite_where=DELETED,
      postgresql_where=DELETED)
Index("ix_turns_created_at", turns.c.created_at)
Index("ix_files_created_at", files.c.created_at)
Index("ix_room_sessions_updated_at", room_sessions.c.updated_at)
Index("ix_direct_sessions_updated_at", direct_sessions.c.updated_at)
