"""Files, job runs and tool usage: uploaded files (scoped to a room or a direct session),
one row per background job execution, and the telemetry of tool calls and file reads.

Files belong to their owner and their scope, and go when those go. Job runs refer to
nothing. Tool calls and file reads are usage records, like ``llm_call_events``: they hold
their ids without foreign keys, so they outlive what they describe.

Money is ``NUMERIC`` on PostgreSQL and a ``BIGINT`` count of ``10**-scale`` units on
SQLite (see ``ExactDecimal`` in ``pantheon_adapters/sql/coltypes.py``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_SCOPE = sa.text("(room_id IS NULL) <> (direct_session_id IS NULL)")


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


def _cascade(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete="CASCADE",
                                   name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    _create_files()
    _create_job_runs()
    _create_tool_usage()


def _create_files() -> None:
    op.create_table(
        "files",
        _id(),
        _ref("owner_id"),
        _ref("room_id", nullable=True),
        _ref("direct_session_id", nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("blob_key", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("text_key", sa.String(length=255), nullable=True),
        _count("text_chars"),
        sa.Column("page_offsets", sa.JSON(), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        _count("parse_attempts"),
        _at("created_at"),
        _at("updated_at"),
        _at("deleted_at", nullable=True),
        _cascade("files", "owner_id", "users"),
        _cascade("files", "room_id", "rooms"),
        _cascade("files", "direct_session_id", "direct_sessions"),
        sa.CheckConstraint(ONE_SCOPE, name=op.f("ck_files_one_scope")),
        sa.PrimaryKeyConstraint("id", name="pk_files"),
    )
    op.create_index("ix_files_room_id_deleted_at", "files", ["room_id", "deleted_at"])
    op.create_index("ix_files_direct_session_id_deleted_at", "files",
                    ["direct_session_id", "deleted_at"])
    op.create_index("ix_files_status", "files", ["status"])


def _create_job_runs() -> None:
    op.create_table(
        "job_runs",
        _id(),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=255), server_default="", nullable=False),
        _at("started_at"),
        _at("finished_at", nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_job_runs"),
    )
    op.create_index("ix_job_runs_message_id", "job_runs", ["message_id"])
    op.create_index("ix_job_runs_name_started_at", "job_runs", ["name", "started_at"])


def _create_tool_usage() -> None:
    op.create_table(
        "tool_call_events",
        _id(),
        _ref("user_id"),
        _ref("turn_id"),
        _ref("step_id"),
        _ref("agent_id", nullable=True),
        _ref("room_id", nullable=True),
        _ref("direct_session_id", nullable=True),
        sa.Column("tool", sa.String(length=128), nullable=False),
        sa.Column("arguments_summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("credits", _money(18, 6), nullable=False),
        sa.Column("pricing_version", sa.String(length=32), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("result_summary", sa.Text(), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_tool_call_events"),
    )
    op.create_index("ix_tool_call_events_turn_id", "tool_call_events", ["turn_id"])
    op.create_index("ix_tool_call_events_user_id_created_at", "tool_call_events",
                    ["user_id", "created_at"])

    op.create_table(
        "file_access_events",
        _id(),
        _ref("file_id"),
        _ref("user_id"),
        _ref("turn_id"),
        _ref("step_id"),
        _ref("agent_id", nullable=True),
        _ref("tool_call_id"),
        sa.Column("chars_returned", sa.Integer(), nullable=False),
        sa.Column("page_from", sa.Integer(), nullable=True),
        sa.Column("page_to", sa.Integer(), nullable=True),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_file_access_events"),
    )
    op.create_index("ix_file_access_events_turn_id", "file_access_events", ["turn_id"])
    op.create_index("ix_file_access_events_file_id", "file_access_events", ["file_id"])


def downgrade() -> None:
    # Dropping a table drops its indexes; nothing here is referenced by another table.
    for table in ("file_access_events", "tool_call_events", "job_runs", "files"):
        op.drop_table(table)
