"""The schema, as SQLAlchemy Core tables (imperative: domain classes stay plain).

This module is the target of ``alembic`` autogenerate; ``tests/integration/test_migrations.py``
checks that the migrations build exactly this schema on SQLite and PostgreSQL. Constraint
and index names come from the naming convention, so migrations can refer to them.

Ids are UUID strings (``String(36)``); timestamps are :class:`UTCDateTime`; the roster
snapshot and selected agent ids of a turn are JSON.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

from pantheon_adapters.sql.coltypes import UTCDateTime

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

turns = Table(
    "turns", metadata,
    _id(),
    _owner("room_id", "rooms.id", index=False),
    _owner("user_id", "users.id"),
    Column("mode", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("roster", JSON, nullable=False),
    Column("selected", JSON, nullable=False),
    _at("created_at"),
    _at("finished_at", nullable=True),
)

Index("ix_turns_room_id_created_at", turns.c.room_id, turns.c.created_at)

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
