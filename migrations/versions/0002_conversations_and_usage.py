"""Conversations and usage: room and direct sessions, steps, events, LLM call events,
pricing versions (seeded with 2026-11-v1) and app settings.

Turns gain their session, event cursor, credits, error and liveness columns, and
``room_id`` becomes optional (a direct-chat turn has no room). Turns written before
this revision are moved into one session per room, so every turn has a conversation.

Money is ``NUMERIC`` on PostgreSQL and a ``BIGINT`` count of ``10**-scale`` units on
SQLite (see ``ExactDecimal`` in ``pantheon_adapters/sql/coltypes.py``); the seed below
writes that encoding itself, because a migration must not depend on code that may change.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRICING_VERSION = "2026-11-v1"
# pantheon_core.domain.pricing.MISSING_CACHED_TOKENS_POLICY as of this revision.
MISSING_CACHED_TOKENS_POLICY = (
    "When the provider does not report cached_tokens, cached_tokens = 0 and every prompt "
    "token is billed as fresh (FR-BILL-006)."
)
# alias, provider model id, USD per million input / cached / output tokens,
# credit multiplier, context window.
MODEL_PRICES = (
    ("llama", "meta-llama/llama-3.3-70b-instruct", "0.13", "0.13", "0.40", "0.4", 131_072),
    ("qwen", "qwen/qwen3-235b-a22b-2507", "0.13", "0.13", "0.60", "0.6", 262_144),
    ("deepseek", "deepseek/deepseek-chat-v3.1", "0.25", "0.06", "1.00", "1.0", 163_840),
    ("gpt_oss", "openai/gpt-oss-120b", "0.09", "0.09", "0.45", "0.5", 131_072),
    ("premium", "google/gemini-2.5-pro", "1.25", "0.31", "10.00", "6.0", 1_048_576),
)

NEW_TURN_INDEXES = {
    "ix_turns_session_id_created_at": ["session_id", "created_at"],
    "ix_turns_direct_session_id_created_at": ["direct_session_id", "created_at"],
    "ix_turns_status_heartbeat_at": ["status", "heartbeat_at"],
}
NEW_TURN_COLUMNS = ("session_id", "direct_session_id", "last_seq", "credits", "error_code",
                    "error_message", "heartbeat_at", "cancel_requested_at")


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(length=36), nullable=False)


def _ref(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=36), nullable=nullable)


def _at(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _money(precision: int, scale: int) -> sa.types.TypeEngine[Any]:
    return sa.Numeric(precision, scale).with_variant(sa.BigInteger(), "sqlite")


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), server_default="0", nullable=False)


def _cascade(table: str, column: str, target: str, key: str = "id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.{key}"], ondelete="CASCADE",
                                   name=f"fk_{table}_{column}_{target}")


def _sqlite() -> bool:
    return bool(op.get_context().dialect.name == "sqlite")


def _exact(value: str, scale: int) -> Decimal | int:
    """A money value as the column stores it on this backend."""
    amount = Decimal(value)
    return int(amount.scaleb(scale)) if _sqlite() else amount


def _json_type() -> sa.types.TypeEngine[Any]:
    # JSON has no literal form, so an offline (``--sql``) script writes the JSON text.
    return sa.Text() if op.get_context().as_sql else sa.JSON()


def _json(value: dict[str, str]) -> dict[str, str] | str:
    return json.dumps(value) if op.get_context().as_sql else value


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=None) if _sqlite() else value


def upgrade() -> None:
    _create_sessions()
    _extend_turns()
    _create_steps_and_events()
    _create_usage()
    _create_pricing()
    op.create_table(
        "app_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("key", name="pk_app_settings"),
    )
    _seed_pricing()
    if not op.get_context().as_sql:  # depends on the data, so not part of a --sql script
        _move_turns_into_sessions()


def _create_sessions() -> None:
    op.create_table(
        "room_sessions",
        _id(),
        _ref("room_id"),
        _ref("user_id"),
        sa.Column("title", sa.String(length=200), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.Column("memory_summary", sa.Text(), server_default="", nullable=False),
        _at("memory_summary_through", nullable=True),
        _cascade("room_sessions", "room_id", "rooms"),
        _cascade("room_sessions", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_room_sessions"),
    )
    op.create_index("ix_room_sessions_room_id_created_at", "room_sessions",
                    ["room_id", "created_at"])
    op.create_index("ix_room_sessions_user_id", "room_sessions", ["user_id"])

    op.create_table(
        "direct_sessions",
        _id(),
        _ref("user_id"),
        sa.Column("agent", sa.JSON(), nullable=False),
        _ref("source_agent_id", nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("memory_summary", sa.Text(), server_default="", nullable=False),
        _at("memory_summary_through", nullable=True),
        _at("created_at"),
        _at("updated_at"),
        _at("deleted_at", nullable=True),
        _cascade("direct_sessions", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_direct_sessions"),
    )
    op.create_index("ix_direct_sessions_user_id_updated_at", "direct_sessions",
                    ["user_id", "updated_at"])


def _extend_turns() -> None:
    with op.batch_alter_table("turns") as batch:
        batch.alter_column("room_id", existing_type=sa.String(length=36), nullable=True)
        batch.add_column(_ref("session_id", nullable=True))
        batch.add_column(_ref("direct_session_id", nullable=True))
        batch.add_column(_count("last_seq"))
        batch.add_column(sa.Column("credits", _money(18, 6), server_default="0",
                                   nullable=False))
        batch.add_column(sa.Column("error_code", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("error_message", sa.Text(), nullable=True))
        batch.add_column(_at("heartbeat_at", nullable=True))
        batch.add_column(_at("cancel_requested_at", nullable=True))
        batch.create_foreign_key("fk_turns_session_id_room_sessions", "room_sessions",
                                 ["session_id"], ["id"], ondelete="CASCADE")
        batch.create_foreign_key("fk_turns_direct_session_id_direct_sessions",
                                 "direct_sessions", ["direct_session_id"], ["id"],
                                 ondelete="CASCADE")
    for name, columns in NEW_TURN_INDEXES.items():
        op.create_index(name, "turns", columns)


def _create_steps_and_events() -> None:
    op.create_table(
        "turn_steps",
        _id(),
        _ref("turn_id"),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        _ref("agent_id", nullable=True),
        sa.Column("agent_name", sa.String(length=64), nullable=False),
        sa.Column("model_alias", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("instruction", sa.Text(), nullable=True),
        _at("started_at"),
        _at("finished_at", nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        _count("calls"),
        _count("prompt_tokens"),
        _count("completion_tokens"),
        _count("cached_tokens"),
        sa.Column("credits", _money(18, 6), server_default="0", nullable=False),
        sa.Column("provider_cost_usd", _money(18, 8), server_default="0", nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        _cascade("turn_steps", "turn_id", "turns"),
        sa.PrimaryKeyConstraint("id", name="pk_turn_steps"),
        sa.UniqueConstraint("turn_id", "index", name="uq_turn_steps_turn_id_index"),
    )
    op.create_table(
        "turn_events",
        _ref("turn_id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        _ref("step_id", nullable=True),
        _at("ts"),
        sa.Column("data", sa.JSON(), nullable=False),
        _cascade("turn_events", "turn_id", "turns"),
        sa.PrimaryKeyConstraint("turn_id", "seq", name="pk_turn_events"),
    )


def _create_usage() -> None:
    op.create_table(
        "llm_call_events",
        _id(),
        _ref("user_id"),
        _ref("room_id", nullable=True),
        _ref("direct_session_id", nullable=True),
        _ref("turn_id"),
        _ref("step_id"),
        _ref("agent_id", nullable=True),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("model_alias", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("cached_tokens", sa.Integer(), nullable=False),
        sa.Column("cached_tokens_reported", sa.Boolean(), nullable=False),
        sa.Column("total_tokens", sa.Integer(), nullable=False),
        sa.Column("provider_cost_usd", _money(18, 8), nullable=False),
        sa.Column("credits_burned", _money(18, 6), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("pricing_version", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("generation_id", sa.String(length=255), nullable=True),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_llm_call_events"),
    )
    op.create_index("ix_llm_call_events_user_id_created_at", "llm_call_events",
                    ["user_id", "created_at"])
    op.create_index("ix_llm_call_events_turn_id", "llm_call_events", ["turn_id"])
    op.create_index("ix_llm_call_events_created_at", "llm_call_events", ["created_at"])


def _create_pricing() -> None:
    op.create_table(
        "pricing_versions",
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("multiplier_floor", _money(8, 4), nullable=False),
        sa.Column("fresh_weight", _money(8, 4), nullable=False),
        sa.Column("cached_weight", _money(8, 4), nullable=False),
        sa.Column("output_weight", _money(8, 4), nullable=False),
        sa.Column("oe_per_credit", _money(18, 6), nullable=False),
        sa.Column("tool_credits", sa.JSON(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        _at("effective_from"),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_pricing_versions"),
    )
    current = sa.text("is_current")
    op.create_index("uq_pricing_versions_current", "pricing_versions", ["is_current"],
                    unique=True, sqlite_where=current, postgresql_where=current)
    op.create_table(
        "model_pricing",
        sa.Column("pricing_version", sa.String(length=32), nullable=False),
        sa.Column("alias", sa.String(length=32), nullable=False),
        sa.Column("provider_model_id", sa.String(length=200), nullable=False),
        sa.Column("input_usd_per_mtok", _money(12, 6), nullable=False),
        sa.Column("cached_usd_per_mtok", _money(12, 6), nullable=False),
        sa.Column("output_usd_per_mtok", _money(12, 6), nullable=False),
        sa.Column("credit_multiplier", _money(8, 4), nullable=False),
        sa.Column("context_window", sa.Integer(), nullable=False),
        _cascade("model_pricing", "pricing_version", "pricing_versions", key="version"),
        sa.PrimaryKeyConstraint("pricing_version", "alias", name="pk_model_pricing"),
    )


def _seed_pricing() -> None:
    versions = sa.table(
        "pricing_versions", sa.column("version", sa.String()),
        *(sa.column(name, _money(8, 4)) for name in ("multiplier_floor", "fresh_weight",
                                                     "cached_weight", "output_weight")),
        sa.column("oe_per_credit", _money(18, 6)), sa.column("tool_credits", _json_type()),
        sa.column("metadata", _json_type()),
        sa.column("effective_from", sa.DateTime(timezone=True)),
        sa.column("is_current", sa.Boolean()),
    )
    op.bulk_insert(versions, [{
        "version": PRICING_VERSION,
        "multiplier_floor": _exact("0.5", 4),
        "fresh_weight": _exact("0.35", 4),
        "cached_weight": _exact("0.10", 4),
        "output_weight": _exact("1", 4),
        "oe_per_credit": _exact("10000", 6),
        "tool_credits": _json({"web_search": "0.5", "read_file": "0.1"}),
        "metadata": _json({"cached_tokens_policy": MISSING_CACHED_TOKENS_POLICY,
                           "source": "OpenRouter list prices, 2026-11"}),
        "effective_from": _utc(datetime(2026, 11, 1, tzinfo=UTC)),
        "is_current": True,
    }])
    models = sa.table(
        "model_pricing", sa.column("pricing_version", sa.String()),
        sa.column("alias", sa.String()), sa.column("provider_model_id", sa.String()),
        *(sa.column(name, _money(12, 6)) for name in ("input_usd_per_mtok",
                                                      "cached_usd_per_mtok",
                                                      "output_usd_per_mtok")),
        sa.column("credit_multiplier", _money(8, 4)), sa.column("context_window", sa.Integer()),
    )
    op.bulk_insert(models, [
        {"pricing_version": PRICING_VERSION, "alias": alias, "provider_model_id": model_id,
         "input_usd_per_mtok": _exact(fresh, 6), "cached_usd_per_mtok": _exact(cached, 6),
         "output_usd_per_mtok": _exact(output, 6), "credit_multiplier": _exact(multiplier, 4),
         "context_window": window}
        for alias, model_id, fresh, cached, output, multiplier, window in MODEL_PRICES
    ])


def _move_turns_into_sessions() -> None:
    """One session per room that already has turns, spanning them, owned by the room's owner."""
    bind = op.get_bind()
    rooms = bind.execute(sa.text(
        "SELECT DISTINCT r.id, r.owner_id FROM rooms r JOIN turns t ON t.room_id = r.id"
    )).all()
    for room_id, owner_id in rooms:
        session_id = str(uuid.uuid4())
        bind.execute(sa.text(
            "INSERT INTO room_sessions (id, room_id, user_id, title, created_at, updated_at, "
            "memory_summary) SELECT :session_id, room_id, :owner_id, 'Conversation', "
            "MIN(created_at), MAX(created_at), '' FROM turns WHERE room_id = :room_id "
            "GROUP BY room_id"
        ), {"session_id": session_id, "room_id": room_id, "owner_id": owner_id})
        bind.execute(sa.text("UPDATE turns SET session_id = :session_id WHERE room_id = :room_id"),
                     {"session_id": session_id, "room_id": room_id})


def downgrade() -> None:
    for table in ("app_settings", "model_pricing", "pricing_versions", "llm_call_events",
                  "turn_events", "turn_steps"):
        op.drop_table(table)
    # Direct-chat turns have no room, and cannot exist before this revision.
    op.execute(sa.text("DELETE FROM turns WHERE room_id IS NULL"))
    for name in NEW_TURN_INDEXES:
        op.drop_index(name, table_name="turns")
    with op.batch_alter_table("turns") as batch:
        batch.drop_constraint("fk_turns_direct_session_id_direct_sessions", type_="foreignkey")
        batch.drop_constraint("fk_turns_session_id_room_sessions", type_="foreignkey")
        for column in NEW_TURN_COLUMNS:
            batch.drop_column(column)
        batch.alter_column("room_id", existing_type=sa.String(length=36), nullable=False)
    op.drop_table("direct_sessions")
    op.drop_table("room_sessions")
