"""NFR-SEC-005: security-sensitive operations are in the audit log, on the use cases over
fakes — sign-ins (and why a failed one failed), sign-outs, API tokens created and revoked,
refused webhook signatures, role changes. The HTTP side (request ids, client addresses, the
admin API showing them) is in tests/e2e/test_http_security_audit.py."""

from __future__ import annotations

import json

import pytest

from pantheon_core.actor import Actor
from pantheon_core.domain.audit import AuditEvent, AuditOutcome
from pantheon_core.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from pantheon_core.ports.payments import PaymentEvent
from tests.fakes import FakeApp, fake_app

ADA = "ada@example.com"
CALLER = Actor.anonymous(request_id="req-1", client="203.0.113.9")


def _events(app: FakeApp, prefix: str = "") -> list[AuditEvent]:
    return [e for e in app.store.audit_events if e.action.startswith(prefix)]


async def _link(app: FakeApp, email: str = ADA) -> str:
    await app.uc.request_magic_link(email, client="203.0.113.9")
    return app.mailer.last_link_token()


async def test_a_sign_in_is_audited_with_the_caller_and_the_session() -> None:
    app = fake_app()
    signed_in = await app.uc.verify_magic_link(await _link(app), caller=CALLER)
    [event] = _events(app)
    assert (event.action, event.target, event.outcome) == ("auth.sign_in", ADA, AuditOutcome.OK)
    assert (event.actor_id, event.actor_label, event.role) == (signed_in.user.id, ADA, "user")
    assert (event.request_id, event.client) == ("req-1", "203.0.113.9")
    assert dict(event.after) == {"session_id": signed_in.session.id, "new_user": True,
                                 "expires_at": signed_in.session.expires_at.isoformat()}
    app.clock.advance(seconds=1)
    await app.uc.verify_magic_link(await _link(app), caller=CALLER)
    assert _events(app)[-1].after["new_user"] is False


async def test_an_owner_signing_in_is_audited_in_their_role() -> None:
    app = fake_app()
    await app.uc.set_role(Actor.operator(), ADA, "owner", granted=True)
    await app.uc.verify_magic_link(await _link(app), caller=CALLER)
    assert _events(app, "auth.")[-1].role == "owner"


async def test_failed_sign_ins_are_refused_with_their_reason() -> None:
    app = fake_app()
    with pytest.raises(Unauthenticated):
        await app.uc.verify_magic_link("not-a-token", caller=CALLER)
    used = await _link(app)
    await app.uc.verify_magic_link(used, caller=CALLER)
    with pytest.raises(Unauthenticated):
        await app.uc.verify_magic_link(used, caller=CALLER)
    stale = await _link(app)
    app.clock.advance(minutes=16)
    with pytest.raises(Unauthenticated):
        await app.uc.verify_magic_link(stale, caller=CALLER)
    failures = [(e.target, e.reason.split(":")[0], e.actor_label, e.role, e.actor_id)
                for e in _events(app) if e.outcome is AuditOutcome.REFUSED]
    assert failures == [
        ("unknown link", "magic_link_invalid", "anonymous", "anonymous", None),
        (ADA, "magic_link_used", ADA, "anonymous", None),
        (ADA, "magic_link_expired", ADA, "anonymous", None),
    ]
    assert all(e.client == "203.0.113.9" and e.request_id == "req-1" for e in _events(app))
    assert "already used" in _events(app)[-2].reason


async def test_a_suspended_account_signing_in_is_refused_and_audited() -> None:
    app = fake_app()
    await app.uc.act_as(Actor.operator(), ADA)
    await app.uc.admin_set_user_status(Actor.operator(), ADA, suspended=True, reason="abuse")
    with pytest.raises(Forbidden):
        await app.uc.verify_magic_link(await _link(app), caller=CALLER)
    event = _events(app, "auth.")[-1]
    assert (event.outcome, event.reason.split(":")[0]) == (AuditOutcome.REFUSED,
                                                          "account_suspended")
    assert not app.store.sessions  # the refusal changed nothing else


async def test_signing_out_is_audited_once() -> None:
    app = fake_app()
    signed_in = await app.uc.verify_magic_link(await _link(app), caller=CALLER)
    await app.uc.logout(signed_in.session_token, caller=CALLER)
    await app.uc.logout(signed_in.session_token, caller=CALLER)  # already ended: no event
    await app.uc.logout("pss_unknown", caller=CALLER)
    [event] = _events(app, "auth.sign_out")
    assert (event.actor_id, event.target, dict(event.after)) == (
        signed_in.user.id, ADA, {"session_id": signed_in.session.id})


async def test_tokens_created_and_revoked_are_audited_without_their_secret() -> None:
    app = fake_app()
    ada = (await app.uc.act_as(Actor.operator(), ADA)).via(request_id="req-2", client="cli")
    issued = await app.uc.create_api_token(ada, name="laptop", expires_in_days=30)
    await app.uc.revoke_api_token(ada, issued.token.id)
    await app.uc.revoke_api_token(ada, issued.token.id)  # idempotent: one event
    created, revoked = _events(app, "auth.token")
    assert (created.action, revoked.action) == ("auth.token.create", "auth.token.revoke")
    assert {created.target, revoked.target, created.actor_label} == {ADA}
    assert (created.request_id, created.client) == ("req-2", "cli")
    assert created.after["token_id"] == issued.token.id and created.after["name"] == "laptop"
    assert created.after["hint"] == issued.token.hint
    assert (revoked.before["revoked_at"], revoked.after["revoked_at"] is not None) == (None, True)
    everything = json.dumps([e.to_dict() for e in app.store.audit_events])
    assert issued.secret not in everything and issued.token.token_hash not in everything


async def test_revoking_someone_elses_token_is_not_found_and_not_audited() -> None:
    app = fake_app()
    ada = await app.uc.act_as(Actor.operator(), ADA)
    eve = await app.uc.act_as(Actor.operator(), "eve@example.com")
    issued = await app.uc.create_api_token(ada, name="laptop")
    with pytest.raises(NotFound):
        await app.uc.revoke_api_token(eve, issued.token.id)
    assert [e.action for e in _events(app, "auth.token")] == ["auth.token.create"]


class RefusingPayments:
    """Our payments port's fake: every signature is refused, with a reason, as the Stripe
    adapter does."""

    def verify(self, payload: bytes, signature: str) -> PaymentEvent:
        reason = "missing_header" if not signature else "signature_mismatch"
        raise InvalidInput("Bad signature.", code="invalid_signature",
                           details={"reason": reason})


@pytest.mark.parametrize(("signature", "reason"), [
    pytest.param("t=1,v1=forged", "signature_mismatch", id="forged"),
    pytest.param("", "missing_header", id="unsigned"),
])
async def test_a_refused_webhook_signature_is_audited(signature: str, reason: str) -> None:
    app = fake_app(payments=RefusingPayments())
    with pytest.raises(InvalidInput):
        await app.uc.handle_payment_event(b'{"id": "evt_1"}', signature, caller=CALLER)
    [event] = app.store.audit_events
    assert (event.action, event.target, event.outcome) == ("webhook.signature", "stripe",
                                                           AuditOutcome.REFUSED)
    assert (event.actor_label, event.role, event.client) == ("anonymous", "anonymous",
                                                             "203.0.113.9")
    assert event.reason == f"invalid_signature: {reason}"
    assert not app.store.payment_events


async def test_role_changes_are_audited_with_before_and_after() -> None:
    app = fake_app()
    await app.uc.set_role(Actor.operator(), ADA, "analyst", granted=True)
    await app.uc.set_role(Actor.operator(), ADA, "analyst", granted=False)
    grant, revoke = _events(app, "admin.role.")
    assert (grant.action, grant.actor_label, dict(grant.after)) == (
        "admin.role.grant", "operator", {"roles": ["analyst"]})
    assert (revoke.action, dict(revoke.after)) == ("admin.role.revoke", {"roles": []})

