"""Credits: wallets, the credit ledger, processed payment events and the audit log.

A wallet goes with its user. ``credit_transactions`` is append-only: it holds the user id
without a foreign key (it outlives the user and never blocks a delete), and a trigger
refuses every ``UPDATE`` and ``DELETE`` of it (and, on PostgreSQL, ``TRUNCATE``). Dropping
the table is still possible, so this revision can be downgraded.

SQLite keeps triggers with their table: a later batch-mode migration that rebuilds
``credit_transactions`` must create the trigger again.

Money is ``NUMERIC`` on PostgreSQL and a ``BIGINT`` count of ``10**-scale`` units on
SQLite (see ``ExactDecimal`` in ``pantheon_adapters/sql/coltypes.py``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = "credit_transactions is append-only"

PG_FUNCTION = f"""
CREATE FUNCTION credit_transactions_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{APPEND_ONLY}' USING ERRCODE = 'restrict_violation';
END;
$$
"""
PG_TRIGGERS = (
    "CREATE TRIGGER credit_transactions_append_only BEFORE UPDATE OR DELETE "
    "ON credit_transactions FOR EACH ROW EXECUTE FUNCTION credit_transactions_append_only()",
    "CREATE TRIGGER credit_transactions_no_truncate BEFORE TRUNCATE "
    "ON credit_transactions FOR EACH STATEMENT "
    "EXECUTE FUNCTION credit_transactions_append_only()",
)
SQLITE_TRIGGERS = tuple(
    f"CREATE TRIGGER credit_transactions_no_{event.lower()} BEFORE {event} "
    f"ON credit_transactions BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
    for event in ("UPDATE", "DELETE")
)


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(length=36), nullable=False)


def _ref(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=36), nullable=nullable)


def _at(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _money(precision: int, scale: int) -> sa.types.TypeEngine[Any]:
    return sa.Numeric(precision, scale).with_variant(sa.BigInteger(), "sqlite")


def _credits(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    if nullable:
        return sa.Column(name, _money(18, 6), nullable=True)
    return sa.Column(name, _money(18, 6), server_default="0", nullable=False)


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), server_default="0", nullable=False)


def _cascade(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete="CASCADE",
                                   name=f"fk_{table}_{column}_{target}")


def _postgresql() -> bool:
    return bool(op.get_context().dialect.name == "postgresql")


def upgrade() -> None:
    _create_wallets()
    _create_ledger()
    _create_payment_events()
    _create_audit_events()


def _create_wallets() -> None:
    op.create_table(
        "wallets",
        _ref("user_id"),
        _credits("plan_balance"),
        _credits("topup_balance"),
        sa.Column("plan_id", sa.String(length=32), nullable=True),
        _at("period_end", nullable=True),
        _at("updated_at", nullable=True),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=True),
        sa.Column("subscription_id", sa.String(length=255), nullable=True),
        sa.Column("subscription_status", sa.String(length=32), nullable=True),
        _credits("monthly_cap", nullable=True),
        sa.Column("allowed_models", sa.JSON(), nullable=True),
        _count("entries"),
        _cascade("wallets", "user_id", "users"),
        sa.PrimaryKeyConstraint("user_id", name="pk_wallets"),
        sa.UniqueConstraint("stripe_customer_id", name="uq_wallets_stripe_customer_id"),
    )


def _create_ledger() -> None:
    op.create_table(
        "credit_transactions",
        _id(),
        _ref("user_id"),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.Column("amount", _money(18, 6), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        _at("created_at"),
        sa.Column("reference", sa.String(length=255), server_default="", nullable=False),
        sa.Column("reservation_id", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_credit_transactions"),
        sa.UniqueConstraint("idempotency_key",
                            name="uq_credit_transactions_idempotency_key"),
    )
    op.create_index("ix_credit_transactions_user_id_created_at", "credit_transactions",
                    ["user_id", "created_at"])
    op.create_index("ix_credit_transactions_reservation_id", "credit_transactions",
                    ["reservation_id"])
    if _postgresql():
        op.execute(PG_FUNCTION)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def _create_payment_events() -> None:
    op.create_table(
        "payment_events",
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        _at("processed_at"),
        sa.PrimaryKeyConstraint("event_id", name="pk_payment_events"),
    )


def _create_audit_events() -> None:
    op.create_table(
        "audit_events",
        _id(),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("actor_label", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_created_at", "audit_events", ["created_at"])
    op.create_index("ix_audit_events_actor_id_created_at", "audit_events",
                    ["actor_id", "created_at"])


def downgrade() -> None:
    # Dropping a table drops its indexes and triggers (and, on SQLite, fires no trigger);
    # the PostgreSQL trigger function is dropped explicitly. Nothing here is referenced by
    # another table.
    for table in ("audit_events", "payment_events", "credit_transactions", "wallets"):
        op.drop_table(table)
    if _postgresql():
        op.execute("DROP FUNCTION credit_transactions_append_only()")
