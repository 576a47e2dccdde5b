"""Admin roles (FR-AUTH-003): stored in the database, granted by owners or the operator."""

from __future__ import annotations

import pytest

from pantheon_core.actor import Actor, Role
from pantheon_core.errors import Forbidden, InvalidInput, NotFound
from tests.fakes import FakeApp
from tests.unit.helpers import sign_up


async def test_operator_grants_the_first_owner_who_can_grant_others(app: FakeApp) -> None:
    profile = await app.uc.set_role(Actor.operator(), "boss@example.com", "owner", granted=True)
    assert profile.roles == {Role.OWNER}
    boss = await sign_up(app, "boss@example.com")
    assert boss.can_admin_write
    await app.uc.set_role(boss, "ann@example.com", "analyst", granted=True)
    admins = await app.uc.list_admins(boss)
    assert [(p.user.email, sorted(p.roles)) for p in admins] == [
        ("ann@example.com", [Role.ANALYST]), ("boss@example.com", [Role.OWNER])]


async def test_analysts_and_users_cannot_grant(app: FakeApp) -> None:
    await app.uc.set_role(Actor.operator(), "ann@example.com", "analyst", granted=True)
    ann = await sign_up(app, "ann@example.com")
    assert ann.can_admin_read and not ann.can_admin_write
    user = await sign_up(app, "joe@example.com")
    for actor in (ann, user):
        with pytest.raises(Forbidden) as err:
            await app.uc.set_role(actor, "joe@example.com", "owner", granted=True)
        assert err.value.code == "owner_required"
    with pytest.raises(Forbidden):
        await app.uc.list_admins(user)
    assert await app.uc.list_admins(ann)


async def test_revoke_is_idempotent_and_needs_a_known_user(app: FakeApp) -> None:
    op = Actor.operator()
    await app.uc.set_role(op, "ann@example.com", "analyst", granted=True)
    assert (await app.uc.set_role(op, "ann@example.com", "analyst", granted=False)).roles == set()
    assert (await app.uc.set_role(op, "ann@example.com", "analyst", granted=False)).roles == set()
    with pytest.raises(NotFound):
        await app.uc.set_role(op, "ghost@example.com", "owner", granted=False)


@pytest.mark.parametrize("role", ["operator", "admin", ""])
async def test_only_stored_roles_can_be_granted(app: FakeApp, role: str) -> None:
    with pytest.raises(InvalidInput) as err:
        await app.uc.set_role(Actor.operator(), "x@example.com", role, granted=True)
    assert err.value.code == "invalid_role"


async def test_act_as_is_for_the_operator_only(app: FakeApp) -> None:
    alice = await sign_up(app, "alice@example.com")
    with pytest.raises(Forbidden):
        await app.uc.act_as(alice, "bob@example.com")
