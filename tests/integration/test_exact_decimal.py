"""Money columns: exact on SQLite and PostgreSQL, in rows and in SQL aggregates."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, create_engine, func, select
from sqlalchemy.exc import StatementError

from pantheon_adapters.sql.coltypes import ExactDecimal
from pantheon_adapters.sql.urls import sync_url

ledger = Table("ledger", MetaData(), Column("id", Integer, primary_key=True),
               Column("credits", ExactDecimal(18, 6), nullable=False))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(sync_url(database_url))
    ledger.create(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def stored(engine: Engine, *amounts: object) -> list[Decimal]:
    with engine.begin() as connection:
        connection.execute(ledger.insert(), [{"credits": amount} for amount in amounts])
        return list(connection.scalars(select(ledger.c.credits).order_by(ledger.c.id)))


@pytest.mark.parametrize(("given", "expected"), [
    (Decimal("0.000035"), Decimal("0.000035")),
    (Decimal("12345.678901"), Decimal("12345.678901")),
    (Decimal("999999999999.999999"), Decimal("999999999999.999999")),
    (Decimal("-0.45"), Decimal("-0.45")),
    (Decimal("0.0000005"), Decimal("0.000001")),    # rounded once, half away from zero
    (Decimal("-0.0000005"), Decimal("-0.000001")),
    (Decimal("0.00000049"), Decimal("0")),
    (7, Decimal(7)),
    ("0.1", Decimal("0.1")),
])
def test_values_are_stored_exactly_and_rounded_like_postgres(engine: Engine, given: object,
                                                             expected: Decimal) -> None:
    [value] = stored(engine, given)
    assert isinstance(value, Decimal) and value == expected


@pytest.mark.parametrize("bad", [0.1, True, Decimal("1000000000000"), "x"])
def test_floats_and_values_that_do_not_fit_are_refused(engine: Engine, bad: object) -> None:
    with pytest.raises((StatementError, ValueError)):
        stored(engine, bad)


def test_sums_and_extremes_are_exact_in_sql(engine: Engine) -> None:
    stored(engine, *[Decimal("0.000001")] * 1000, Decimal("12345.678901"), Decimal("-0.1"))
    with engine.connect() as connection:
        total, low, high = connection.execute(
            select(func.sum(ledger.c.credits), func.min(ledger.c.credits),
                   func.max(ledger.c.credits))).one()
        big = connection.scalar(select(ledger.c.credits)
                                .where(ledger.c.credits > Decimal("12345.6789")))
    assert (total, low, high) == (Decimal("12345.579901"), Decimal("-0.1"),
                                  Decimal("12345.678901"))
    assert big == Decimal("12345.678901")
