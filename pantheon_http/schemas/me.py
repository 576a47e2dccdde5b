"""The signed-in user."""

from __future__ import annotations

from pantheon_core.actor import Role
from pantheon_core.usecases.users import Profile
from pantheon_http.schemas.auth import UserOut


class MeOut(UserOut):
    roles: list[Role]

    @classmethod
    def of_profile(cls, profile: Profile) -> MeOut:
        return cls(**UserOut.of(profile.user).model_dump(), roles=sorted(profile.roles))
