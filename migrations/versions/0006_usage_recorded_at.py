"""Usage events record when they were written: ``llm_call_events.recorded_at``.

The database stamps it (``clock_timestamp()`` on PostgreSQL; on SQLite the UTC time as text in
the same ``YYYY-MM-DD HH:MM:SS.ffffff`` form SQLAlchemy stores timestamps in), whoever inserts
the row — the product, a batch import or a hand-written ``INSERT``. The usage rollups' watermark
is an instant on this clock: rollups hold every event recorded before it, analytics read the
events recorded from it on, so an event is counted exactly once whatever its ``created_at``
(even one written late, or back-dated). Existing rows get the migration's time, so the first
rollup after it covers them. Indexed for the rollup job's and the analytics' scan of the most
recent rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_NOW = "clock_timestamp()"
SQLITE_NOW = "(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000')"
INDEX = "ix_llm_call_events_recorded_at"


def upgrade() -> None:
    postgresql = op.get_context().dialect.name == "postgresql"
    column = sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False,
                       server_default=sa.text(PG_NOW if postgresql else SQLITE_NOW))
    if postgresql:
        op.add_column("llm_call_events", column)
    else:  # SQLite adds no column with an expression default: the table is rebuilt
        with op.batch_alter_table("llm_call_events") as batch:
            batch.add_column(column)
    op.create_index(INDEX, "llm_call_events", ["recorded_at"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="llm_call_events")
    with op.batch_alter_table("llm_call_events") as batch:
        batch.drop_column("recorded_at")
