"""Admin roles: who holds which, and confirmations of grants and revocations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypedDict

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from pantheon_cli.views.cells import NONE, iso
from pantheon_core.usecases.users import Profile


class ProfileView(TypedDict):
    user_id: str
    email: str
    roles: list[str]
    status: str
    created_at: str | None


def profile_data(profile: Profile) -> ProfileView:
    user = profile.user
    return ProfileView(user_id=user.id, email=user.email,
                       roles=sorted(role.value for role in profile.roles),
                       status=user.status.value, created_at=iso(user.created_at))


def profiles_data(profiles: Sequence[Profile]) -> list[ProfileView]:
    return [profile_data(profile) for profile in profiles]


def admins_table(admins: list[ProfileView]) -> RenderableType:
    if not admins:
        return Text("Nobody holds an admin role. Grant one: "
                    "pantheon admin grant EMAIL --role owner", style="dim")
    table = Table(title="Admins", title_justify="left")
    table.add_column("E-mail", style="bold", overflow="fold")
    table.add_column("Roles")
    table.add_column("Status")
    table.add_column("User ID", style="dim", overflow="fold")
    for admin in admins:
        table.add_row(admin["email"], ", ".join(admin["roles"]) or NONE, admin["status"],
                      admin["user_id"])
    return table


def role_changed(verb: str, role: str) -> Callable[[ProfileView], RenderableType]:
    """A renderer confirming that ``role`` was granted or revoked."""

    def render(profile: ProfileView) -> RenderableType:
        return Text.assemble((f"{verb.capitalize()} ", "green"), (role, "bold"),
                             f" for {profile['email']}. Roles now: "
                             f"{', '.join(profile['roles']) or 'none'}.")

    return render
