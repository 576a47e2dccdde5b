"""Admin: the full audit log, made append-only, and the usage rollups analytics read.

``audit_events`` gains the actor's role, the outcome (``ok`` or ``refused``), the values
before and after, the reason, the request id and the client address; ``details`` goes (an
earlier record's details become its ``after``, and its ``reason`` is kept). Like
``credit_transactions``, the log is then append-only: a trigger refuses every ``UPDATE`` and
``DELETE`` (and, on PostgreSQL, ``TRUNCATE``). SQLite keeps triggers with their table: a
later batch-mode migration that rebuilds ``audit_events`` must create them again.

``usage_rollups_daily`` (UTC day, user, model alias), ``usage_rollups_monthly`` (first day of
the month, user, model alias) and ``user_activity_daily`` (day, user) hold sums recomputed
from ``llm_call_events``; money keeps the raw columns' scales (see ``ExactDecimal``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = "audit_events is append-only"

PG_FUNCTION = f"""
CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{APPEND_ONLY}' USING ERRCODE = 'restrict_violation';
END;
$$
"""
PG_TRIGGERS = (
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE "
    "ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE "
    "ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
)
PG_DROP = (
    "DROP TRIGGER audit_events_no_truncate ON audit_events",
    "DROP TRIGGER audit_events_append_only ON audit_events",
    "DROP FUNCTION audit_events_append_only()",
)
SQLITE_TRIGGERS = tuple(
    f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} "
    f"ON audit_events BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
    for event in ("UPDATE", "DELETE")
)
SQLITE_DROP = tuple(f"DROP TRIGGER audit_events_no_{event}" for event in ("update", "delete"))

# An earlier record's details become its "after"; the reason they held is kept.
CARRY_OVER = """UPDATE audit_events SET "after" = details, reason = COALESCE({reason}, ''),
role = CASE WHEN actor_id IS NULL THEN 'operator' ELSE 'owner' END"""
PG_CARRY_OVER = CARRY_OVER.format(reason="details ->> 'reason'")
SQLITE_CARRY_OVER = CARRY_OVER.format(reason="json_extract(details, '$.reason')")

AUDIT_INDEXES = {
    "ix_audit_events_action_created_at": ["action", "created_at"],
    "ix_audit_events_target_created_at": ["target", "created_at"],
}
EMPTY_JSON = sa.text("'{}'")


def _ref(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=36), nullable=False)


def _money(precision: int, scale: int) -> sa.types.TypeEngine[Any]:
    return sa.Numeric(precision, scale).with_variant(sa.BigInteger(), "sqlite")


def _sums() -> list[sa.Column[Any]]:
    return [*(sa.Column(name, sa.BigInteger(), nullable=False)
              for name in ("calls", "failed_calls", "prompt_tokens", "cached_tokens",
                           "completion_tokens")),
            sa.Column("provider_cost_usd", _money(18, 8), nullable=False),
            sa.Column("credits", _money(18, 6), nullable=False)]


def _postgresql() -> bool:
    return bool(op.get_context().dialect.name == "postgresql")


def upgrade() -> None:
    _extend_audit_events()
    _create_rollups()


def _extend_audit_events() -> None:
    # Two batches: SQLite rebuilds the table for each, and the new NOT NULL columns need a
    # server default while the existing rows are copied, which the second batch then drops.
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("role", sa.String(length=16), server_default="owner",
                                   nullable=False))
        batch.add_column(sa.Column("outcome", sa.String(length=16), server_default="ok",
                                   nullable=False))
        batch.add_column(sa.Column("before", sa.JSON(), server_default=EMPTY_JSON,
                                   nullable=False))
        batch.add_column(sa.Column("after", sa.JSON(), server_default=EMPTY_JSON,
                                   nullable=False))
        batch.add_column(sa.Column("reason", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("request_id", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("client", sa.String(length=255), nullable=True))
    # Before this revision only owners and the operator (no actor id) could write.
    op.execute(PG_CARRY_OVER if _postgresql() else SQLITE_CARRY_OVER)
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("details")
        for name, kind in (("role", sa.String(length=16)), ("outcome", sa.String(length=16)),
                           ("before", sa.JSON()), ("after", sa.JSON()), ("reason", sa.Text())):
            batch.alter_column(name, existing_type=kind, existing_nullable=False,
                               server_default=None)
    for name, columns in AUDIT_INDEXES.items():
        op.create_index(name, "audit_events", columns)
    if _postgresql():
        op.execute(PG_FUNCTION)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def _create_rollups() -> None:
    op.create_table(
        "usage_rollups_daily",
        sa.Column("day", sa.Date(), nullable=False),
        _ref("user_id"),
        sa.Column("model_alias", sa.String(length=32), nullable=False),
        *_sums(),
        sa.PrimaryKeyConstraint("day", "user_id", "model_alias", name="pk_usage_rollups_daily"),
    )
    op.create_index("ix_usage_rollups_daily_user_id_day", "usage_rollups_daily",
                    ["user_id", "day"])
    op.create_table(
        "usage_rollups_monthly",
        sa.Column("month", sa.Date(), nullable=False),
        _ref("user_id"),
        sa.Column("model_alias", sa.String(length=32), nullable=False),
        *_sums(),
        sa.PrimaryKeyConstraint("month", "user_id", "model_alias",
                                name="pk_usage_rollups_monthly"),
    )
    op.create_index("ix_usage_rollups_monthly_user_id_month", "usage_rollups_monthly",
                    ["user_id", "month"])
    op.create_table(
        "user_activity_daily",
        sa.Column("day", sa.Date(), nullable=False),
        _ref("user_id"),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("credits", _money(18, 6), nullable=False),
        sa.PrimaryKeyConstraint("day", "user_id", name="pk_user_activity_daily"),
    )


def downgrade() -> None:
    for table in ("user_activity_daily", "usage_rollups_monthly", "usage_rollups_daily"):
        op.drop_table(table)
    # The triggers go first: the log is rewritten below.
    for statement in PG_DROP if _postgresql() else SQLITE_DROP:
        op.execute(statement)
    for name in AUDIT_INDEXES:
        op.drop_index(name, table_name="audit_events")
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("details", sa.JSON(), server_default=EMPTY_JSON,
                                   nullable=False))
    op.execute('UPDATE audit_events SET details = "after"')
    with op.batch_alter_table("audit_events") as batch:
        for column in ("client", "request_id", "reason", "after", "before", "outcome", "role"):
            batch.drop_column(column)
        batch.alter_column("details", existing_type=sa.JSON(), existing_nullable=False,
                           server_default=None)
