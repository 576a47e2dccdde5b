"""Users, their stored admin roles and their external identities."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from pantheon_adapters.sql.errors import is_unique_violation
from pantheon_adapters.sql.tables import admin_roles, user_identities, users
from pantheon_adapters.sql.tx import Tx
from pantheon_core.actor import Role
from pantheon_core.domain.users import User, UserStatus
from pantheon_core.errors import Conflict
from pantheon_core.ids import UserId


def _row(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "status": user.status.value,
            "display_name": user.display_name, "created_at": user.created_at}


def _user(row: Row[Any]) -> User:
    return User(id=UserId(row.id), email=row.email, created_at=row.created_at,
                status=UserStatus(row.status), display_name=row.display_name)


class SqlUserRepository:
    """``UserRepository`` over ``users``, ``admin_roles`` and ``user_identities``.

    - ``add`` (or ``update``) to an e-mail that is already taken raises
      ``Conflict(code="email_taken")`` and leaves the unit of work usable.
    - ``set_role`` is idempotent both ways; ``link_identity`` re-points an existing
      ``(provider, subject)`` at ``user_id``.
    - ``search`` matches a substring of the e-mail or display name, case-insensitively
      (``LIKE`` wildcards in the query match themselves; SQLite folds ASCII case only), and
      pages by e-mail in code-point order.
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def add(self, user: User) -> None:
        await self._write(user, users.insert().values(_row(user)))

    async def get(self, user_id: UserId) -> User | None:
        row = await self._tx.first(select(users).where(users.c.id == user_id))
        return None if row is None else _user(row)

    async def get_many(self, user_ids: Collection[UserId]) -> Sequence[User]:
        wanted = sorted(set(user_ids))
        found: list[User] = []
        for at in range(0, len(wanted), 5000):  # well under every bound-parameter limit
            rows = await self._tx.rows(select(users).where(users.c.id.in_(wanted[at:at + 5000])))
            found += [_user(row) for row in rows]
        return found

    async def get_by_email(self, email: str) -> User | None:
        row = await self._tx.first(select(users).where(users.c.email == email))
        return None if row is None else _user(row)

    async def update(self, user: User) -> None:
        await self._write(user, update(users).where(users.c.id == user.id).values(_row(user)))

    async def get_with_roles(self, user_id: UserId) -> tuple[User, frozenset[Role]] | None:
        rows = await self._tx.rows(
            select(users, admin_roles.c.role)
            .outerjoin(admin_roles, admin_roles.c.user_id == users.c.id)
            .where(users.c.id == user_id))
        if not rows:
            return None
        return _user(rows[0]), frozenset(Role(row.role) for row in rows if row.role is not None)

    async def roles_of(self, user_id: UserId) -> frozenset[Role]:
        rows = await self._tx.rows(select(admin_roles.c.role)
                                   .where(admin_roles.c.user_id == user_id))
        return frozenset(Role(row.role) for row in rows)

    async def set_role(self, user_id: UserId, role: Role, *, granted: bool,
                       now: datetime) -> None:
        if granted:
            await self._tx.execute(
                self._tx.insert(admin_roles)
                .values(user_id=user_id, role=role.value, granted_at=now)
                .on_conflict_do_nothing(index_elements=["user_id", "role"])
            )
        else:
            await self._tx.execute(delete(admin_roles).where(admin_roles.c.user_id == user_id,
                                                             admin_roles.c.role == role.value))

    async def list_with_roles(self) -> Sequence[tuple[User, frozenset[Role]]]:
        rows = await self._tx.rows(
            select(users, admin_roles.c.role).join(admin_roles, admin_roles.c.user_id == users.c.id)
        )
        found: dict[UserId, User] = {}
        roles: dict[UserId, set[Role]] = defaultdict(set)
        for row in rows:
            user = found.setdefault(UserId(row.id), _user(row))
            roles[user.id].add(Role(row.role))
        # Sorted here rather than by the database, whose collation may not order by code point.
        return [(user, frozenset(roles[user.id]))
                for user in sorted(found.values(), key=lambda u: u.email)]

    async def search(self, query: str | None = None, *, after_email: str | None = None,
                     status: str | None = None, limit: int = 50) -> Sequence[User]:
        # By code point, as Python sorts: PostgreSQL's collation of the database may not be.
        email = users.c.email.collate("C") if self._tx.dialect == "postgresql" else users.c.email
        statement = select(users)
        if query:
            needle = query.lower()
            statement = statement.where(or_(
                func.lower(users.c.email).contains(needle, autoescape=True),
                func.lower(users.c.display_name).contains(needle, autoescape=True)))
        if status is not None:
            statement = statement.where(users.c.status == status)
        if after_email is not None:
            statement = statement.where(email > after_email)
        rows = await self._tx.rows(statement.order_by(email).limit(limit))
        return [_user(row) for row in rows]

    async def find_by_identity(self, provider: str, subject: str) -> User | None:
        row = await self._tx.first(
            select(users).join(user_identities, user_identities.c.user_id == users.c.id)
            .where(user_identities.c.provider == provider, user_identities.c.subject == subject)
        )
        return None if row is None else _user(row)

    async def link_identity(self, user_id: UserId, provider: str, subject: str,
                            now: datetime) -> None:
        await self._tx.execute(
            self._tx.insert(user_identities)
            .values(provider=provider, subject=subject, user_id=user_id, created_at=now)
            .on_conflict_do_update(index_elements=["provider", "subject"],
                                   set_={"user_id": user_id})
        )

    async def _write(self, user: User, statement: Any) -> None:
        try:
            async with self._tx.savepoint():
                await self._tx.execute(statement)
        except IntegrityError as exc:
            if is_unique_violation(exc, "email"):
                raise Conflict("An account with this e-mail address already exists.",
                               code="email_taken", details={"email": user.email}) from exc
            raise
