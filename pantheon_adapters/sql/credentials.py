"""Magic links, sign-in sessions and API tokens (stored as hashes only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, or_, select, update

from pantheon_adapters.sql.tables import api_tokens, auth_sessions, magic_links
from pantheon_adapters.sql.tx import Tx
from pantheon_core.domain.credentials import ApiToken, AuthSession, MagicLink
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

    async def update_session(self, session: AuthSession) -> None:
        await self._tx.execute(update(auth_sessions).where(auth_sessions.c.id == session.id)
                               .values(_session_row(session)))

    async def add_api_token(self, token: ApiToken) -> None:
        await self._tx.execute(api_tokens.insert().values(_token_row(token)))

    async def get_api_token(self, token_id: ApiTokenId) -> ApiToken | None:
        row = await self._tx.first(select(api_tokens).where(api_tokens.c.id == token_id))
        return None if row is None else _token(row)

    async def get_api_token_by_hash(self, token_hash: str) -> ApiToken | None:
        row = await self._tx.first(select(api_tokens)
                                   .where(api_tokens.c.token_hash == token_hash))
        return None if row is None else _token(row)

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
