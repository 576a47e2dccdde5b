"""Users, as the actor sees them, and admin role management (FR-AUTH-003)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pantheon_core.actor import STORED_ROLES, Actor, Role
from pantheon_core.domain.users import User, normalize_email
from pantheon_core.errors import Forbidden, InvalidInput, not_found
from pantheon_core.usecases.audit_log import record, require_owner
from pantheon_core.usecases.deps import UseCase
from pantheon_core.usecases.signin import actor_for, user_for_email


@dataclass(frozen=True, slots=True)
class Profile:
    user: User
    roles: frozenset[Role]


class GetProfile(UseCase):
    """The signed-in user and their admin roles."""

    async def __call__(self, actor: Actor) -> Profile:
        user_id = actor.require_user()
        async with self.deps.uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise not_found("user", user_id)
            return Profile(user, await uow.users.roles_of(user_id))


class ActAs(UseCase):
    """The actor for an e-mail, for the local CLI (``--as EMAIL``).

    Only the operator (someone holding the database credentials) may do this; the
    user is created on first use, like a first sign-in.
    """

    async def __call__(self, operator: Actor, email: str) -> Actor:
        if not operator.is_operator:
            raise Forbidden("Only the local operator can act as another user.",
                            code="operator_required")
        address = normalize_email(email)
        async with self.deps.uow() as uow:
            user = await user_for_email(uow, address, self.deps.clock.now())
            await uow.commit()
            return await actor_for(uow, user.id)


def parse_role(value: str) -> Role:
    try:
        role = Role(value.strip().lower())
    except ValueError:
        role = Role.OPERATOR
    if role not in STORED_ROLES:
        allowed = sorted(r.value for r in STORED_ROLES)
        raise InvalidInput(f"Unknown role {value!r}; choose one of {', '.join(allowed)}.",
                           code="invalid_role", details={"allowed": allowed})
    return role


class SetRole(UseCase):
    """Grant or revoke an admin role. Only an owner (or the operator) may; idempotent."""

    async def __call__(self, actor: Actor, email: str, role: str, *, granted: bool) -> Profile:
        action = "admin.role.grant" if granted else "admin.role.revoke"
        await require_owner(self.deps, actor, action, email)
        wanted = parse_role(role)
        address = normalize_email(email)
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            user = await uow.users.get_by_email(address)
            if user is None:
                if not granted:
                    raise not_found("user", address)
                user = await user_for_email(uow, address, now)
            before = await uow.users.roles_of(user.id)
            await uow.users.set_role(user.id, wanted, granted=granted, now=now)
            after = await uow.users.roles_of(user.id)
            await record(uow, self.deps, actor, action, address,
                         before={"roles": sorted(r.value for r in before)},
                         after={"roles": sorted(r.value for r in after)})
            await uow.commit()
            return Profile(user, after)


class ListAdmins(UseCase):
    """Everyone holding an admin role."""

    async def __call__(self, actor: Actor) -> Sequence[Profile]:
        actor.require_admin_read()
        async with self.deps.uow() as uow:
            return [Profile(u, r) for u, r in await uow.users.list_with_roles()]
