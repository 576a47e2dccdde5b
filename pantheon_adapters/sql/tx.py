"""The one connection a unit of work runs on, and how (and when) its transaction begins."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import ColumnElement, Row, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

from pantheon_adapters.sql.sqlite import BEGIN_MODE, DEFERRED, IMMEDIATE


class Tx:
    """A unit of work's connection: every repository of the unit runs its SQL through it.

    The transaction begins at the first statement, and again at the first statement after
    a commit. On PostgreSQL: READ COMMITTED, plus ``FOR UPDATE`` where a repository asks
    for a row lock; and reads run without a transaction (autocommit) until the unit of work
    first writes (a DML statement, a locking read or a savepoint), which begins one. Under
    READ COMMITTED every statement sees the data committed before it started, inside a
    transaction or not, so this changes nothing a unit of work can observe — but a unit of
    work that only reads (most API requests) costs no ``BEGIN`` and no ``ROLLBACK`` round
    trip.

    SQLite has one writer at a time, and a transaction that has read cannot wait to become
    the writer: it fails at once with ``SQLITE_BUSY`` if another writer got in first. So a
    transaction that is going to write (a DML statement, or a *locking* read, ``lock=True``)
    begins ``IMMEDIATE``, taking the write lock up front and waiting for it up to the busy
    timeout; plain reads begin deferred and never block. A read-only transaction that then
    needs to write is ended and begun again as a writer; as on PostgreSQL, what it read
    earlier may have changed since, which is what locking reads and conditional updates
    are for. Two *writing* units of work nested in one task therefore wait on each other
    until the busy timeout: do not nest them.
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection
        self.dialect = connection.dialect.name
        self._writer = False
        self._autocommit = False  # PostgreSQL: reading outside a transaction

    async def execute(self, statement: Executable, *, lock: bool = False,
                      alone: bool = False,
                      params: Mapping[str, Any] | None = None) -> CursorResult[Any]:
        """Run ``statement``; ``alone``: see :meth:`insert_new`. ``params``: values of its
        ``bindparam``s — a statement built once (:mod:`pantheon_adapters.sql.prebuilt`) and
        run with new values costs neither building nor its cache key again."""
        await self._begin_for(write=lock or _writes(statement), alone=alone)
        return await self._conn.execute(statement, params)

    async def insert_many(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """One INSERT of ``rows``, sent as executemany: the statement is compiled once and
        cached (a multi-row ``VALUES`` list is a new statement per batch size), and the driver
        batches it (``insertmanyvalues`` on PostgreSQL)."""
        if rows:
            await self._begin(write=True)
            await self._conn.execute(table.insert(), list(rows))

    async def insert_new(self, table: Table, rows: Sequence[dict[str, Any]],
                         *returning: ColumnElement[Any],
                         alone: bool = False) -> Sequence[Row[Any]]:
        """INSERT ``rows``, skipping any that would break a unique key (``ON CONFLICT DO
        NOTHING``), in one round trip; the ``returning`` columns of the rows stored.

        Where a savepoint around a plain INSERT costs two more round trips (``SAVEPOINT``,
        ``RELEASE``) to keep the unit of work usable after a clash, a clash here is no error
        at all: the caller compares what was stored with what it sent.

        ``alone``: the unit of work's only write (the caller's promise). On PostgreSQL, if
        no transaction has begun, it runs in autocommit — one statement is atomic by itself
        — saving the BEGIN and COMMIT round trips; any later write still begins one."""
        if not rows:
            return []
        await self._begin_for(write=True, alone=alone)
        statement = self.insert(table).on_conflict_do_nothing().returning(*returning)
        return (await self._conn.execute(statement, list(rows))).all()

    async def first(self, statement: Executable, *, lock: bool = False,
                    params: Mapping[str, Any] | None = None) -> Row[Any] | None:
        return (await self.execute(statement, lock=lock, params=params)).first()

    async def rows(self, statement: Executable, *,
                   params: Mapping[str, Any] | None = None) -> Sequence[Row[Any]]:
        return (await self.execute(statement, params=params)).all()

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested transaction for a write that may fail: an error inside undoes only what
        happened inside, so the unit of work stays usable (PostgreSQL otherwise aborts the
        whole transaction)."""
        await self._begin(write=True)
        async with self._conn.begin_nested():
            yield

    def insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """An INSERT that supports ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
        return postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table)

    async def commit(self) -> None:
        await self._conn.commit()

    async def rollback(self) -> None:
        await self._conn.rollback()

    async def close(self) -> None:
        await self._conn.close()

    async def _begin_for(self, *, write: bool, alone: bool) -> None:
        if write and alone and self.dialect == "postgresql" and (
                self._autocommit or not self._conn.in_transaction()):
            write = False  # a write of its own: in autocommit, like a read
        await self._begin(write=write)

    async def _begin(self, *, write: bool) -> None:
        if self.dialect == "postgresql":
            await self._begin_postgresql(write=write)
            return
        if self.dialect != "sqlite":
            return  # the connection begins by itself at the first statement
        if self._conn.in_transaction():
            if self._writer or not write:
                return
            await self._conn.commit()  # it has only read: nothing is lost by ending it
        await self._conn.execution_options(**{BEGIN_MODE: IMMEDIATE if write else DEFERRED})
        await self._conn.begin()
        self._writer = write

    async def _begin_postgresql(self, *, write: bool) -> None:
        """Reads in autocommit; the first write ends that and begins a transaction (which
        the connection does by itself at its next statement). The pool puts the connection
        back to its default (transactional) mode when it is returned."""
        if not write:
            if not (self._autocommit or self._conn.in_transaction()):
                await self._conn.execution_options(isolation_level="AUTOCOMMIT")
                self._autocommit = True
            return  # reads join a transaction already begun
        if self._autocommit:
            await self._conn.commit()  # in autocommit: nothing to send, the reads are done
            await self._conn.execution_options(
                isolation_level=self._conn.default_isolation_level)
            self._autocommit = False


def _writes(statement: Executable) -> bool:
    """A statement that must run in a transaction: DML, or a locking read."""
    return bool(getattr(statement, "is_dml", False)) or getattr(
        statement, "_for_update_arg", None) is not None
