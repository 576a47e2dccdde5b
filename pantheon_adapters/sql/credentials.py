"""Magic links, sign-in sessions and API tokens (stored as hashes only)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, Table, bindparam, delete, or_, select, update

from pantheon_adapters.sql.tables import (
    admin_roles,
    api_tokens,
    auth_sessions,
    magic_links,
    users,
)
from pantheon_adapters.sql.tx import Tx
from pantheon_core.actor import Role
from pantheon_core.domain.credentials import ApiToken, AuthSession, MagicLink
from pantheon_core.domain.users import User, UserStatus
from pantheon_core.ids import ApiTokenId, MagicLinkId, SessionId, UserId


def _link(row: Row[Any]) -> MagicLink:
    return MagicLink(id=MagicLinkId(row.id), email=row.email, token_hash=row.token_hash,
                     created_at=row.created_at, expires_at=row.expires_at, used_at=row.used_at)


def _session(row: Row[Any]) -> AuthSession:
    return AuthSession(id=SessionId(row.id), user_id=UserId(row.user_id),
                       token_hash=row.token_hash, created_at=row.created_at,
                       expires_at=row.expires_at, revoked_at=row.revoked_at)


def _token(row: Row[Any]) -> ApiToken:
    return ApiToken(id=ApiTokenId(row.id), user_id=UserId(row.user_id), name=row.name,
                    token_hash=row.token_hash, hint=row.hint, created_at=row.created_at,
                    expires_at=row.expires_at, last_used_at=row.last_used_at,
                    revoked_at=row.revoked_at)


@functools.cache
def _with_user(credentials: Table) -> Select[Any]:
    """The credential of the hash ``:token_hash``, its user's columns (``users.id`` as
    ``user_found``, ``created_at`` as ``user_created_at``; NULL if the user is gone) and one
    row per stored role of the user (``role`` NULL if none). Built once per table: every
    authenticated request runs it."""
    return (
        select(credentials, users.c.id.label("user_found"), users.c.email, users.c.status,
               users.c.display_name, users.c.created_at.label("user_created_at"),
               admin_roles.c.role)
        .select_from(credentials
                     .outerjoin(users, users.c.id == credentials.c.user_id)
                     .outerjoin(admin_roles, admin_roles.c.user_id == users.c.id))
        .where(credentials.c.token_hash == bindparam("token_hash")))


def _holder(rows: Sequence[Row[Any]]) -> tuple[User | None, frozenset[Role]]:
    """The user and roles of :func:`_with_user`'s rows (at least one)."""
    first = rows[0]
    if first.user_found is None:
        return None, frozenset()
    user = User(id=UserId(first.user_found), email=first.email,
                created_at=first.user_created_at, status=UserStatus(first.status),
                display_name=first.display_name)
    return user, frozenset(Role(row.role) for row in rows if row.role is not None)


def _session_row(session: AuthSession) -> dict[str, Any]:
    return {"id": session.id, "user_id": session.user_id, "token_hash": session.token_hash,
            "created_at": session.created_at, "expires_at": session.expires_at,
            "revoked_at": session.revoked_at}


def _token_row(token: ApiToken) -> dict[str, Any]:
    return {"id": token.id, "user_id": token.user_id, "name": token.name,
            "token_hash": token.token_hash, "hint": token.hint, "created_at": token.created_at,
            "expires_at": token.expires_at, "last_used_at": token.last_used_at,
            "revoked_at": token.revoked_at}


class SqlCredentialRepository:
    """``CredentialRepository`` over ``magic_links``, ``auth_sessions`` and ``api_tokens``.

    - ``consume_magic_link`` is one conditional ``UPDATE … WHERE used_at IS NULL``: of any
      number of concurrent callers exactly one sees ``True``.
    - ``list_api_tokens`` is newest first (ties by id, descending), revoked ones included.
    - ``purge_expired`` deletes used or expired links and expired sessions.
    - ``get_api_token_with_user`` and ``get_session_with_user`` are one ``SELECT`` of the
      credential ``LEFT JOIN users LEFT JOIN admin_roles`` (a row per role).
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def add_magic_link(self, link: MagicLink) -> None:
        await self._tx.execute(magic_links.insert().values(
            id=link.id, email=link.email, token_hash=link.token_hash,
            created_at=link.created_at, expires_at=link.expires_at, used_at=link.used_at))

    async def get_magic_link(self, token_hash: str) -> MagicLink | None:
        row = await self._tx.first(select(magic_links)
                                   .where(magic_links.c.token_hash == token_hash))
        return None if row is None else _link(row)

    async def consume_magic_link(self, link_id: MagicLinkId, now: datetime) -> bool:
        result = await self._tx.execute(
            update(magic_links)
            .where(magic_links.c.id == link_id, magic_links.c.used_at.is_(None))
            .values(used_at=now)
        )
        return result.rowcount == 1

    async def add_session(self, session: AuthSession) -> None:
        await self._tx.execute(auth_sessions.insert().values(_session_row(session)))

    async def get_session(self, token_hash: str) -> AuthSession | None:
        row = await self._tx.first(select(auth_sessions)
                                   .where(auth_sessions.c.token_hash == token_hash))
        return None if row is None else _session(row)

    async def get_session_with_user(
            self, token_hash: str) -> tuple[AuthSession, User | None, frozenset[Role]] | None:
        rows = await self._tx.rows(_with_user(auth_sessions), params={"token_hash": token_hash})
        if not rows:
            return None
        user, roles = _holder(rows)
        return _session(rows[0]), user, roles

    async def update_session(self, session: AuthSession) -> None:
        await self._tx.execute(update(auth_sessions).where(auth_sessions.c.id == session.id)
                               .values(_session_row(session)))

    async def add_api_token(self, token: ApiToken) -> None:
        await self._tx.execute(api_tokens.insert().values(_token_row(token)))

    async def get_api_token(self, token_id: ApiTokenId) -> ApiToken | None:
        row = await self._tx.first(select(api_tokens).where(api_tokens.c.id == token_id))
        return None if row is None else _token(row)

    async def get_api_token_with_user(
            self, token_hash: str) -> tuple[ApiToken, User | None, frozenset[Role]] | None:
        rows = await self._tx.rows(_with_user(api_tokens), params={"token_hash": token_hash})
        if not rows:
            return None
        user, roles = _holder(rows)
        return _token(rows[0]), user, roles

    async def list_api_tokens(self, user_id: UserId) -> Sequence[ApiToken]:
        rows = await self._tx.rows(
            select(api_tokens).where(api_tokens.c.user_id == user_id)
            .order_by(api_tokens.c.created_at.desc(), api_tokens.c.id.desc())
        )
        return [_token(row) for row in rows]

    async def update_api_token(self, token: ApiToken) -> None:
        await self._tx.execute(update(api_tokens).where(api_tokens.c.id == token.id)
                               .values(_token_row(token)))

    async def purge_expired(self, now: datetime) -> int:
        links = await self._tx.execute(delete(magic_links).where(
            or_(magic_links.c.used_at.is_not(None), magic_links.c.expires_at <= now)))
        sessions = await self._tx.execute(delete(auth_sessions)
                                          .where(auth_sessions.c.expires_at <= now))
        return links.rowcount + sessions.rowcount
