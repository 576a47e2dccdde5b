"""Product-wide settings admins change at run time, as key -> text."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from pantheon_adapters.sql.tables import app_settings
from pantheon_adapters.sql.tx import Tx


class SqlAppSettingRepository:
    """``AppSettingRepository`` over ``app_settings``: ``put`` is one upsert, so two
    concurrent writers never clash (the last commit wins)."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def get(self, key: str) -> str | None:
        row = await self._tx.first(select(app_settings.c.value)
                                   .where(app_settings.c.key == key))
        return None if row is None else str(row.value)

    async def put(self, key: str, value: str, *, now: datetime) -> None:
        insert = self._tx.insert(app_settings).values(key=key, value=value, updated_at=now)
        await self._tx.execute(insert.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
        ))

    async def swap(self, key: str, expected: str | None, value: str, *,
                   now: datetime) -> bool:
        if expected is None:
            insert = self._tx.insert(app_settings).values(key=key, value=value, updated_at=now)
            result = await self._tx.execute(
                insert.on_conflict_do_nothing(index_elements=["key"])
                .returning(app_settings.c.key))
            return result.first() is not None
        result = await self._tx.execute(
            update(app_settings)
            .where(app_settings.c.key == key, app_settings.c.value == expected)
            .values(value=value, updated_at=now).returning(app_settings.c.key))
        return result.first() is not None
