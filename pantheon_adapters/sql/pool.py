"""Checking pooled PostgreSQL connections before reuse: only those that sat idle.

SQLAlchemy's ``pool_pre_ping`` pings every connection it hands out: one more round trip
for every unit of work, two for an API request that authenticates and then reads. A
connection returned to the pool a moment ago is alive; what a managed server or a proxy in
front of it drops is a connection left idle for minutes. So a connection is pinged when it
is checked out only if it has been back in the pool for ``idle_s`` or more; one that does
not answer is discarded and the pool hands out another (SQLAlchemy's custom pessimistic
disconnect handling: the ``checkout`` event raises ``DisconnectionError``).

The price: a connection that dies within ``idle_s`` of its last use (the server restarted)
is not caught before use. Its statement fails with a disconnect error, which makes
SQLAlchemy discard every connection of the pool opened before it, so the next units of
work reconnect.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

RETURNED_AT = "pantheon_returned_at"  # key in a pooled connection's ``info``


def ping_when_idle(engine: Engine, idle_s: float) -> None:
    """Ping ``engine``'s pooled connections at checkout once idle for ``idle_s`` seconds."""
    dialect = engine.dialect

    def returned(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[RETURNED_AT] = time.monotonic()

    def handed_out(dbapi_connection: Any, record: ConnectionPoolEntry,
                   proxy: PoolProxiedConnection) -> None:
        since = record.info.get(RETURNED_AT)
        if since is None or time.monotonic() - since < idle_s:
            return  # just opened, or in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError(
                f"a pooled connection idle for {time.monotonic() - since:.0f} s did not "
                f"answer a ping: {error}") from error

    event.listen(engine.pool, "checkin", returned)
    event.listen(engine.pool, "checkout", handed_out)
