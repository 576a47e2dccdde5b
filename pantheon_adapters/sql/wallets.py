"""Wallets: the cached balances of a user's ledger, their plan and their admin policy."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, Select, bindparam, select, update
from sqlalchemy.exc import IntegrityError

from pantheon_adapters.sql.errors import is_unique_violation
from pantheon_adapters.sql.tables import wallets
from pantheon_adapters.sql.tx import Tx
from pantheon_core.domain.wallets import Wallet
from pantheon_core.errors import Conflict
from pantheon_core.ids import UserId


def _row(wallet: Wallet) -> dict[str, Any]:
    return {"user_id": wallet.user_id, "plan_balance": wallet.plan_balance,
            "topup_balance": wallet.topup_balance, "plan_id": wallet.plan_id,
            "period_end": wallet.period_end, "updated_at": wallet.updated_at,
            "stripe_customer_id": wallet.stripe_customer_id,
            "subscription_id": wallet.subscription_id,
            "subscription_status": wallet.subscription_status,
            "monthly_cap": wallet.monthly_cap,
            "allowed_models": (None if wallet.allowed_models is None
                               else list(wallet.allowed_models)),
            "entries": wallet.entries}


def _wallet(row: Row[Any]) -> Wallet:
    return Wallet(
        user_id=UserId(row.user_id), plan_balance=Decimal(row.plan_balance),
        topup_balance=Decimal(row.topup_balance), plan_id=row.plan_id,
        period_end=row.period_end, updated_at=row.updated_at,
        stripe_customer_id=row.stripe_customer_id, subscription_id=row.subscription_id,
        subscription_status=row.subscription_status,
        monthly_cap=None if row.monthly_cap is None else Decimal(row.monthly_cap),
        allowed_models=(None if row.allowed_models is None
                        else tuple(str(alias) for alias in row.allowed_models)),
        entries=row.entries)


@functools.cache
def _wallet_of(for_update: bool) -> Select[Any]:
    """Built once (every charge and wallet read): binds ``user_id``."""
    statement = select(wallets).where(wallets.c.user_id == bindparam("user_id"))
    return statement.with_for_update() if for_update else statement


class SqlWalletRepository:
    """``WalletRepository`` over ``wallets``, one row per user.

    ``get(for_update=True)`` holds the wallet's lock until the unit of work ends:
    ``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the unit of work's transaction is begun
    ``IMMEDIATE`` (see :class:`Tx`). Locking a wallet that does not exist locks nothing on
    PostgreSQL. ``add`` of a user's second wallet raises ``Conflict(code="wallet_exists")``;
    a Stripe customer id already on another wallet raises
    ``Conflict(code="duplicate_stripe_customer")``; both leave the unit of work usable.
    ``update`` of a wallet that is not stored does nothing.
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def get(self, user_id: UserId, *, for_update: bool = False) -> Wallet | None:
        row = await self._tx.first(_wallet_of(for_update), lock=for_update,
                                   params={"user_id": user_id})
        return None if row is None else _wallet(row)

    async def add(self, wallet: Wallet) -> None:
        await self._write(wallet, wallets.insert().values(_row(wallet)))

    async def update(self, wallet: Wallet) -> None:
        """One guarded ``UPDATE``, no savepoint (every charge updates the wallet twice): it
        changes nothing if another wallet holds the Stripe customer id, which is then told
        apart from a wallet that is not stored. Only a race with a concurrent transaction
        giving the same customer id to another wallet still fails in the database; that is
        the same ``Conflict``, but this unit of work can then only be rolled back."""
        statement = update(wallets).where(wallets.c.user_id == wallet.user_id)
        customer = wallet.stripe_customer_id
        if customer is not None:
            other = wallets.alias("other")
            statement = statement.where(~select(other.c.user_id).where(
                other.c.stripe_customer_id == customer,
                other.c.user_id != wallet.user_id).exists())
        try:
            result = await self._tx.execute(statement.values(_row(wallet)))
        except IntegrityError as exc:
            self._raise_clash(wallet, exc)
            raise
        if result.rowcount == 0 and customer is not None and \
                await self._tx.first(select(wallets.c.user_id)
                                     .where(wallets.c.user_id == wallet.user_id)) is not None:
            raise _customer_taken(wallet)

    async def find_by_customer(self, stripe_customer_id: str) -> Wallet | None:
        row = await self._tx.first(
            select(wallets).where(wallets.c.stripe_customer_id == stripe_customer_id))
        return None if row is None else _wallet(row)

    async def list_all(self, *, after: UserId | None = None,
                       limit: int = 500) -> Sequence[Wallet]:
        statement = select(wallets)
        if after is not None:
            statement = statement.where(wallets.c.user_id > after)
        rows = await self._tx.rows(statement.order_by(wallets.c.user_id).limit(limit))
        return [_wallet(row) for row in rows]

    async def _write(self, wallet: Wallet, statement: Any) -> None:
        try:
            async with self._tx.savepoint():
                await self._tx.execute(statement)
        except IntegrityError as exc:
            self._raise_clash(wallet, exc)
            raise

    @staticmethod
    def _raise_clash(wallet: Wallet, exc: IntegrityError) -> None:
        if is_unique_violation(exc, "stripe_customer_id"):
            raise _customer_taken(wallet) from exc
        if is_unique_violation(exc, "user_id"):
            raise Conflict("This user already has a wallet.", code="wallet_exists",
                           details={"user_id": wallet.user_id}) from exc


def _customer_taken(wallet: Wallet) -> Conflict:
    return Conflict("This Stripe customer already belongs to another wallet.",
                    code="duplicate_stripe_customer",
                    details={"stripe_customer_id": wallet.stripe_customer_id})
