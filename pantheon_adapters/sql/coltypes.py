"""Column types shared by the tables: UTC timestamps (and their UTC day in SQL), and money as
exact decimals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, Numeric, cast, func, literal_column
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware (``tzinfo=UTC``).

    PostgreSQL stores ``timestamptz``. SQLite has no time zones: the value is
    converted to UTC and stored naive, and read back with UTC attached. Naive
    datetimes are refused on the way in, because their meaning is a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"Timestamps must be timezone-aware datetimes, got {value!r}.")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


def utc_day(at: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """The UTC date of a ``UTCDateTime`` column, as SQL that groups and compares as a date.

    PostgreSQL: ``CAST(timezone('UTC', at) AS DATE)`` (``(at AT TIME ZONE 'UTC')::date``,
    whatever the session's time zone). SQLite: ``date(at)`` of the naive UTC text stored.
    The constant is inlined, so that the expression in SELECT and in GROUP BY is the same
    text for PostgreSQL.
    """
    if dialect == "postgresql":
        return cast(func.timezone(literal_column("'UTC'"), at), Date)
    return func.date(at, type_=Date)


class ExactDecimal(TypeDecorator[Decimal]):
    """A ``Decimal`` with ``scale`` places and at most ``precision`` digits, stored exactly.

    PostgreSQL stores ``NUMERIC(precision, scale)``. SQLite has no decimal type (its
    NUMERIC is a float), so the value is stored as a ``BIGINT`` count of
    ``10**-scale`` units: ``Decimal("0.45")`` in a scale-6 column is ``450000``. That
    keeps every value exact, and keeps ``SUM``, ``MIN``, ``MAX`` and comparisons exact
    in SQL as well, because SQLAlchemy reads their results through this same type
    (an ``AVG`` is a float there and comes back rounded to the scale).

    On both backends a value is rounded once to the scale, half away from zero (as
    PostgreSQL rounds), and a value with more than ``precision - scale`` integer digits
    is refused. Floats are refused too: money enters as ``Decimal``, ``int`` or ``str``.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision, scale, asdecimal=True)
        self.precision = precision
        self.scale = scale
        self._unit = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Decimal | int | None:
        if value is None:
            return None
        if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
            raise ValueError(f"Money must be a Decimal, int or str, got {value!r}.")
        exact = Decimal(value).quantize(self._unit, rounding=ROUND_HALF_UP)
        if len(exact.as_tuple().digits) > self.precision:
            raise ValueError(f"{value} does not fit NUMERIC({self.precision}, {self.scale}).")
        return int(exact.scaleb(self.scale)) if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name != "sqlite":
            return Decimal(value)
        if isinstance(value, int):
            return Decimal(value).scaleb(-self.scale)
        # An aggregate such as AVG comes back as a float of units.
        return Decimal(repr(value)).scaleb(-self.scale).quantize(self._unit, ROUND_HALF_UP)
