"""Magic links, sessions, API tokens and external identities."""

from __future__ import annotations

import pytest

from pantheon_core.domain.credentials import hash_secret
from pantheon_core.domain.users import UserStatus
from pantheon_core.errors import Forbidden, InvalidInput, NotFound, RateLimited, Unauthenticated
from pantheon_core.ports.identity import ExternalIdentity
from pantheon_core.ports.rate_limiter import RateDecision, RateLimit
from tests.fakes import FakeApp, fake_app
from tests.unit.helpers import sign_up


async def test_magic_link_signs_in_once_and_creates_the_user(app: FakeApp) -> None:
    await app.uc.request_magic_link(" Alice@Example.COM ", client="1.2.3.4")
    message = app.mailer.sent[-1]
    assert message.to == "alice@example.com" and message.kind == "magic_link"
    token = app.mailer.last_link_token()
    assert all(link.token_hash == hash_secret(token) and token not in repr(link)
               for link in app.store.links.values())
    assert app.store.users == {}

    signed = await app.uc.verify_magic_link(token)
    assert signed.user.email == "alice@example.com"
    actor = await app.uc.authenticate_session(signed.session_token)
    assert actor.user_id == signed.user.id

    with pytest.raises(Unauthenticated) as err:
        await app.uc.verify_magic_link(token)
    assert err.value.code == "magic_link_used"


async def test_magic_link_expires_after_15_minutes(app: FakeApp) -> None:
    await app.uc.request_magic_link("alice@example.com", client="c")
    token = app.mailer.last_link_token()
    app.clock.advance(minutes=15)
    with pytest.raises(Unauthenticated) as err:
        await app.uc.verify_magic_link(token)
    assert err.value.code == "magic_link_expired"


@pytest.mark.parametrize("token", ["", "nope", "x" * 500])
async def test_unknown_tokens_are_refused(app: FakeApp, token: str) -> None:
    with pytest.raises(Unauthenticated) as err:
        await app.uc.verify_magic_link(token)
    assert err.value.code == "magic_link_invalid"


@pytest.mark.parametrize("email", ["", "alice", "a@b", "a b@c.de", "@example.com"])
async def test_bad_emails_are_refused_before_anything_is_sent(app: FakeApp, email: str) -> None:
    with pytest.raises(InvalidInput) as err:
        await app.uc.request_magic_link(email, client="c")
    assert err.value.code == "invalid_email"
    assert app.mailer.sent == [] and app.store.links == {}


class _Refuse:
    def __init__(self, refuse_prefix: str) -> None:
        self.prefix = refuse_prefix
        self.keys: list[str] = []

    async def hit(self, key: str, rule: RateLimit) -> RateDecision:
        self.keys.append(key)
        refused = key.startswith(self.prefix)
        return RateDecision(allowed=not refused, retry_after_s=42 if refused else 0)


@pytest.mark.parametrize("prefix", ["magic:email:", "magic:client:"])
async def test_link_requests_are_rate_limited_per_email_and_per_client(prefix: str) -> None:
    app = fake_app(limiter=_Refuse(prefix))
    with pytest.raises(RateLimited) as err:
        await app.uc.request_magic_link("alice@example.com", client="9.9.9.9")
    assert err.value.retry_after_s == 42
    assert app.mailer.sent == []


async def test_logout_ends_the_session(app: FakeApp) -> None:
    await app.uc.request_magic_link("alice@example.com", client="c")
    signed = await app.uc.verify_magic_link(app.mailer.last_link_token())
    await app.uc.logout(signed.session_token)
    await app.uc.logout(signed.session_token)  # idempotent
    with pytest.raises(Unauthenticated):
        await app.uc.authenticate_session(signed.session_token)


async def test_sessions_expire(app: FakeApp) -> None:
    await app.uc.request_magic_link("alice@example.com", client="c")
    signed = await app.uc.verify_magic_link(app.mailer.last_link_token())
    app.clock.advance(days=30)
    with pytest.raises(Unauthenticated) as err:
        await app.uc.authenticate_session(signed.session_token)
    assert err.value.code == "session_expired"


async def test_suspended_users_cannot_sign_in(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    assert alice.user_id is not None
    user = app.store.users[alice.user_id]
    app.store.users[alice.user_id] = user.with_status(UserStatus.SUSPENDED)
    await app.uc.request_magic_link("alice@example.com", client="c")
    with pytest.raises(Forbidden) as err:
        await app.uc.verify_magic_link(app.mailer.last_link_token())
    assert err.value.code == "account_suspended"


async def test_api_tokens_are_shown_once_listed_used_and_revoked(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    bob = await sign_up(app, "bob@example.com")
    issued = await app.uc.create_api_token(alice, name="laptop", expires_in_days=30)
    assert issued.secret.startswith("pan_") and issued.secret not in repr(issued.token)
    assert (await app.uc.authenticate_api_token(issued.secret)).user_id == alice.user_id
    assert [t.name for t in await app.uc.list_api_tokens(alice)] == ["laptop"]
    assert await app.uc.list_api_tokens(bob) == []
    with pytest.raises(NotFound) as err:
        await app.uc.revoke_api_token(bob, issued.token.id)
    assert err.value.code == "token_not_found"
    await app.uc.revoke_api_token(alice, issued.token.id)
    with pytest.raises(Unauthenticated) as err2:
        await app.uc.authenticate_api_token(issued.secret)
    assert err2.value.code == "invalid_token"


async def test_api_tokens_expire(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    issued = await app.uc.create_api_token(alice, name="ci", expires_in_days=1)
    app.clock.advance(days=1)
    with pytest.raises(Unauthenticated):
        await app.uc.authenticate_api_token(issued.secret)


async def test_credentials_of_an_account_that_is_gone_are_not_authenticated(
        app: FakeApp) -> None:
    await app.uc.request_magic_link("alice@example.com", client="c")
    signed = await app.uc.verify_magic_link(app.mailer.last_link_token())
    actor = await app.uc.authenticate_session(signed.session_token)
    issued = await app.uc.create_api_token(actor, name="ci")
    del app.store.users[signed.user.id]  # the SQL schema cascades; the read still copes
    for authenticate, secret in ((app.uc.authenticate_api_token, issued.secret),
                                 (app.uc.authenticate_session, signed.session_token)):
        with pytest.raises(Unauthenticated) as err:
            await authenticate(secret)
        assert err.value.code == "not_authenticated"
    assert app.store.tokens[issued.token.id].last_used_at is None


class _Verifier:
    def __init__(self, identity: ExternalIdentity) -> None:
        self.identity = identity

    async def verify(self, token: str) -> ExternalIdentity:
        if token != "good":
            raise Unauthenticated("bad", code="invalid_token")
        return self.identity


async def test_external_identities_link_to_local_users_by_email() -> None:
    app = fake_app(identity=_Verifier(ExternalIdentity("supabase", "sub-1", "Alice@Example.com")))
    alice = await sign_up(app, "alice@example.com")
    actor = await app.uc.authenticate_external("good")
    assert actor.user_id == alice.user_id
    assert app.store.identities == {("supabase", "sub-1"): alice.user_id}
    assert (await app.uc.authenticate_external("good")).user_id == alice.user_id
    with pytest.raises(Unauthenticated):
        await app.uc.authenticate_external("bad")


async def test_without_an_identity_provider_foreign_bearer_tokens_are_refused(app: FakeApp) -> None:
    with pytest.raises(Unauthenticated) as err:
        await app.uc.authenticate_external("eyJ.x.y")
    assert err.value.code == "invalid_token"


async def test_purge_removes_only_dead_credentials(app: FakeApp) -> None:
    await app.uc.request_magic_link("a@example.com", client="c")
    signed = await app.uc.verify_magic_link(app.mailer.last_link_token())
    await app.uc.request_magic_link("b@example.com", client="c")
    assert await app.uc.purge_expired_credentials() == 1  # the used link
    app.clock.advance(days=31)
    assert await app.uc.purge_expired_credentials() == 2  # the expired link and session
    assert app.store.links == {} and app.store.sessions == {}
    with pytest.raises(Unauthenticated):
        await app.uc.authenticate_session(signed.session_token)
