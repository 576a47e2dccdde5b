"""Foundation: users and roles, rooms and agents, turns, sign-in credentials.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL")


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(length=36), nullable=False)


def _ref(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=36), nullable=False)


def _at(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _cascade(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete="CASCADE",
                                   name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "admin_roles",
        _ref("user_id"),
        sa.Column("role", sa.String(length=16), nullable=False),
        _at("granted_at"),
        _cascade("admin_roles", "user_id", "users"),
        sa.PrimaryKeyConstraint("user_id", "role", name="pk_admin_roles"),
    )
    op.create_table(
        "user_identities",
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        _ref("user_id"),
        _at("created_at"),
        _cascade("user_identities", "user_id", "users"),
        sa.PrimaryKeyConstraint("provider", "subject", name="pk_user_identities"),
    )
    op.create_index("ix_user_identities_user_id", "user_identities", ["user_id"])

    op.create_table(
        "rooms",
        _id(),
        _ref("owner_id"),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("current_mode", sa.String(length=16), nullable=False),
        sa.Column("pending_mode", sa.String(length=16), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        _at("deleted_at", nullable=True),
        _cascade("rooms", "owner_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_rooms"),
    )
    op.create_index("ix_rooms_owner_id", "rooms", ["owner_id"])

    op.create_table(
        "room_agents",
        _id(),
        _ref("room_id"),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_key", sa.String(length=64), nullable=False),
        sa.Column("model_alias", sa.String(length=32), nullable=False),
        sa.Column("role_prompt", sa.Text(), nullable=False),
        sa.Column("tool_web_search", sa.Boolean(), nullable=False),
        sa.Column("tool_files", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _at("deleted_at", nullable=True),
        _cascade("room_agents", "room_id", "rooms"),
        sa.PrimaryKeyConstraint("id", name="pk_room_agents"),
    )
    op.create_index("ix_room_agents_room_id", "room_agents", ["room_id"])
    op.create_index("uq_room_agents_live_name_key", "room_agents", ["room_id", "name_key"],
                    unique=True, sqlite_where=LIVE, postgresql_where=LIVE)

    op.create_table(
        "turns",
        _id(),
        _ref("room_id"),
        _ref("user_id"),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("roster", sa.JSON(), nullable=False),
        sa.Column("selected", sa.JSON(), nullable=False),
        _at("created_at"),
        _at("finished_at", nullable=True),
        _cascade("turns", "room_id", "rooms"),
        _cascade("turns", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_turns"),
    )
    op.create_index("ix_turns_room_id_created_at", "turns", ["room_id", "created_at"])
    op.create_index("ix_turns_user_id", "turns", ["user_id"])

    op.create_table(
        "magic_links",
        _id(),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        _at("used_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_magic_links"),
        sa.UniqueConstraint("token_hash", name="uq_magic_links_token_hash"),
    )
    op.create_table(
        "auth_sessions",
        _id(),
        _ref("user_id"),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        _at("revoked_at", nullable=True),
        _cascade("auth_sessions", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_auth_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_auth_sessions_token_hash"),
    )
    op.create_index("ix_auth_sessions_user_id", "auth_sessions", ["user_id"])

    op.create_table(
        "api_tokens",
        _id(),
        _ref("user_id"),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=32), nullable=False),
        _at("created_at"),
        _at("expires_at", nullable=True),
        _at("last_used_at", nullable=True),
        _at("revoked_at", nullable=True),
        _cascade("api_tokens", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])


def downgrade() -> None:
    # Dropping a table drops its indexes; children go before their parents.
    for table in ("api_tokens", "auth_sessions", "magic_links", "turns", "room_agents", "rooms",
                  "user_identities", "admin_roles", "users"):
        op.drop_table(table)
