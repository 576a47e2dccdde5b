"""Magic-link sign-in and sessions (FR-AUTH-001/002).

- A link is requested for an e-mail; requests are rate-limited per address and per
  client. The answer never says whether the address has an account.
- The link's token is single-use, valid 15 minutes, and stored only as a hash.
- Verifying it creates the user on first sign-in and opens a session (30 days).
- Every sign-in attempt (and why a failed one failed) and every sign-out is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from pantheon_core.actor import Actor, Role
from pantheon_core.domain.credentials import (
    SESSION_PREFIX,
    AuthSession,
    MagicLink,
    hash_secret,
    new_secret,
)
from pantheon_core.domain.users import User, UserStatus, normalize_email
from pantheon_core.errors import Forbidden, PantheonError, RateLimited, Unauthenticated
from pantheon_core.ids import MagicLinkId, SessionId, UserId, new_id
from pantheon_core.ports.mailer import MailMessage
from pantheon_core.ports.unit_of_work import UnitOfWork
from pantheon_core.usecases.audit_log import record, record_refusal
from pantheon_core.usecases.deps import UseCase

SIGN_IN = "auth.sign_in"
SIGN_OUT = "auth.sign_out"
UNKNOWN_LINK = "unknown link"  # the audit target of a sign-in with a token that matches none


@dataclass(frozen=True, slots=True)
class SignIn:
    user: User
    session: AuthSession
    session_token: str  # shown once, to be put in the cookie


class RequestMagicLink(UseCase):
    """E-mail a sign-in link. ``client`` identifies the caller (an IP address) for rate limiting."""

    async def __call__(self, email: str, *, client: str) -> None:
        address = normalize_email(email)
        policy = self.deps.auth
        for key, rule in ((f"magic:email:{address}", policy.links_per_email),
                          (f"magic:client:{client}", policy.links_per_client)):
            decision = await self.deps.limiter.hit(key, rule)
            if not decision.allowed:
                raise RateLimited("Too many sign-in links requested; try again later.",
                                  retry_after_s=decision.retry_after_s)
        token = new_secret()
        now = self.deps.clock.now()
        link = MagicLink(id=MagicLinkId(new_id()), email=address, token_hash=hash_secret(token),
                         created_at=now, expires_at=now + policy.magic_link_ttl)
        async with self.deps.uow() as uow:
            await uow.credentials.add_magic_link(link)
            await uow.commit()
        url = policy.link_url.format(token=token)
        minutes = int(policy.magic_link_ttl.total_seconds() // 60)
        await self.deps.mailer.send(MailMessage(
            to=address, subject="Your Pantheon sign-in link", kind="magic_link", link=url,
            text=(f"Sign in to Pantheon:\n\n{url}\n\nThe link works once and expires in "
                  f"{minutes} minutes. If you did not ask for it, ignore this e-mail."),
        ))


class VerifyMagicLink(UseCase):
    """Exchange a link's token for a session; the first sign-in creates the user.

    Every attempt is audited as ``auth.sign_in`` with the ``caller``'s request id and
    address (NFR-SEC-005): a success, in the transaction that opens the session; a failure
    (``magic_link_invalid``, ``magic_link_expired``, ``magic_link_used``,
    ``account_suspended``) as refused, with its code and message as the reason.
    """

    async def __call__(self, token: str, *, caller: Actor | None = None) -> SignIn:
        caller = caller or Actor.anonymous()
        email: str | None = None
        now = self.deps.clock.now()
        try:
            async with self.deps.uow() as uow:
                link = await uow.credentials.get_magic_link(hash_secret(token or ""))
                if link is None:
                    raise Unauthenticated("This sign-in link is not valid; request a new one.",
                                          code="magic_link_invalid")
                email = link.email
                link.check_usable(now)
                if not await uow.credentials.consume_magic_link(link.id, now):
                    raise Unauthenticated("This sign-in link was already used; request a new "
                                          "one.", code="magic_link_used")
                signed_in = await self._open_session(uow, link.email, caller, now)
                await uow.commit()
        except PantheonError as exc:
            who = replace(caller, email=email) if email else caller
            await record_refusal(self.deps, who, SIGN_IN, email or UNKNOWN_LINK,
                                 reason=f"{exc.code}: {exc.message}")
            raise
        return signed_in

    async def _open_session(self, uow: UnitOfWork, email: str, caller: Actor,
                            now: datetime) -> SignIn:
        user = await user_for_email(uow, email, now)
        ensure_active(user)
        secret = new_secret(SESSION_PREFIX)
        session = AuthSession(id=SessionId(new_id()), user_id=user.id,
                              token_hash=hash_secret(secret), created_at=now,
                              expires_at=now + self.deps.auth.session_ttl)
        await uow.credentials.add_session(session)
        actor = Actor(user_id=user.id, roles=await uow.users.roles_of(user.id),
                      email=user.email).via(request_id=caller.request_id, client=caller.client)
        await record(uow, self.deps, actor, SIGN_IN, user.email, after={
            "session_id": session.id, "new_user": user.created_at == now,
            "expires_at": session.expires_at.isoformat()})
        return SignIn(user=user, session=session, session_token=secret)


class AuthenticateSession(UseCase):
    """The actor behind a session cookie, or ``not_authenticated``."""

    async def __call__(self, token: str) -> Actor:
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            found = await uow.credentials.get_session_with_user(hash_secret(token))
        if found is None or not found[0].is_valid(now):
            raise Unauthenticated("Your session has ended; sign in again.",
                                  code="session_expired")
        _, user, roles = found
        return actor_of(user, roles)


class Logout(UseCase):
    """End a session. Ending an unknown or ended session is not an error. Ending one is
    audited (``auth.sign_out``) with the ``caller``'s request id and address."""

    async def __call__(self, token: str, *, caller: Actor | None = None) -> None:
        caller = caller or Actor.anonymous()
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            session = await uow.credentials.get_session(hash_secret(token))
            if session is not None and session.revoked_at is None:
                await uow.credentials.update_session(session.revoked(now))
                user = await uow.users.get(session.user_id)
                actor = Actor(user_id=session.user_id, email=user.email if user else None).via(
                    request_id=caller.request_id, client=caller.client)
                await record(uow, self.deps, actor, SIGN_OUT, actor.label,
                             after={"session_id": session.id})
                await uow.commit()


class AuthenticateExternal(UseCase):
    """The actor behind an external identity provider's token (Supabase Auth).

    The identity is linked to a local user on first use: by a previous link, else by
    e-mail, else a new user is created.
    """

    async def __call__(self, token: str) -> Actor:
        verifier = self.deps.identity
        if verifier is None:
            raise Unauthenticated("This bearer token is not a Pantheon API token.",
                                  code="invalid_token")
        identity = await verifier.verify(token)
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            user = await uow.users.find_by_identity(identity.provider, identity.subject)
            if user is None:
                if not identity.email:
                    raise Unauthenticated("The identity token carries no e-mail address.",
                                          code="invalid_token")
                user = await user_for_email(uow, normalize_email(identity.email), now)
                await uow.users.link_identity(user.id, identity.provider, identity.subject, now)
                await uow.commit()
            return await actor_for(uow, user.id)


async def user_for_email(uow: UnitOfWork, email: str, now: datetime) -> User:
    """The user with this (normalised) e-mail, created if there is none yet."""
    user = await uow.users.get_by_email(email)
    if user is None:
        user = User(id=UserId(new_id()), email=email, created_at=now)
        await uow.users.add(user)
    return user


def ensure_active(user: User) -> None:
    if user.status is UserStatus.SUSPENDED:
        raise Forbidden("This account is suspended.", code="account_suspended")


async def actor_for(uow: UnitOfWork, user_id: UserId) -> Actor:
    user, roles = await uow.users.get_with_roles(user_id) or (None, frozenset())
    return actor_of(user, roles)


def actor_of(user: User | None, roles: frozenset[Role]) -> Actor:
    """The actor of a credential's user: ``not_authenticated`` when the account is gone,
    ``account_suspended`` when it is suspended."""
    if user is None:
        raise Unauthenticated("This account no longer exists.", code="not_authenticated")
    ensure_active(user)
    return Actor(user_id=user.id, roles=roles, email=user.email)
