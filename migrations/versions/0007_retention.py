"""Retention: tombstones, the queue of stored objects to delete, and the purge scans' indexes.

``tombstones`` remember what a purge removed from the trash (kind, id, owner, when — no
content), so a restore after the 7-day window answers ``restore_window_expired`` even once
the rows are gone. ``blob_purges`` holds the storage keys of purged files: they are queued in
the transaction that deletes the rows and removed from the queue once the blob store has
deleted them, so a crash between the two loses nothing.

The purge jobs scan the trash by ``deleted_at`` (partial indexes: only deleted rows are in
them), chat and file data by ``created_at`` and conversations by ``updated_at``.

Foreign keys need no change: usage and billing records (``llm_call_events``,
``tool_call_events``, ``file_access_events``, ``credit_transactions``, the rollups) were
created without foreign keys to the rooms, sessions, turns and files they describe, so they
survive the purge of those rows (checked by ``tests/integration/test_retention_contract.py``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-14
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DELETED = sa.text("deleted_at IS NOT NULL")
TRASH_INDEXES = {  # partial: only rows in the trash
    "ix_rooms_deleted_at": "rooms",
    "ix_room_agents_deleted_at": "room_agents",
    "ix_direct_sessions_deleted_at": "direct_sessions",
    "ix_files_deleted_at": "files",
}
SCAN_INDEXES = {
    "ix_turns_created_at": ("turns", "created_at"),
    "ix_files_created_at": ("files", "created_at"),
    "ix_room_sessions_updated_at": ("room_sessions", "updated_at"),
    "ix_direct_sessions_updated_at": ("direct_sessions", "updated_at"),
}


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "tombstones",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        _at("deleted_at", nullable=True),
        _at("purged_at"),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("kind", "id", name="pk_tombstones"),
    )
    op.create_index("ix_tombstones_purged_at", "tombstones", ["purged_at"])
    op.create_table(
        "blob_purges",
        sa.Column("blob_key", sa.String(length=255), nullable=False),
        _at("queued_at"),
        sa.PrimaryKeyConstraint("blob_key", name="pk_blob_purges"),
    )
    op.create_index("ix_blob_purges_queued_at", "blob_purges", ["queued_at"])
    for name, table in TRASH_INDEXES.items():
        op.create_index(name, table, ["deleted_at"], sqlite_where=DELETED,
                        postgresql_where=DELETED)
    for name, (table, column) in SCAN_INDEXES.items():
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, (table, _column) in SCAN_INDEXES.items():
        op.drop_index(name, table_name=table)
    for name, table in TRASH_INDEXES.items():
        op.drop_index(name, table_name=table)
    op.drop_index("ix_blob_purges_queued_at", table_name="blob_purges")
    op.drop_table("blob_purges")
    op.drop_index("ix_tombstones_purged_at", table_name="tombstones")
    op.drop_table("tombstones")
