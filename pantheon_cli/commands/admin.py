"""``pantheon admin``: grant, revoke and list the admin roles owner and analyst.

Without ``--as`` these run as the local operator (whoever holds the database
credentials), which is how the first owner gets granted; with ``--as`` core decides
whether that user may (owners may).
"""

from __future__ import annotations

from typing import Annotated

import typer

from pantheon_cli.options import JsonFlag
from pantheon_cli.runner import Identity, Invocation
from pantheon_cli.views import admin as views

app = typer.Typer(help="Admin roles: owner (read and write) and analyst (read only).",
                  no_args_is_help=True)

Email = Annotated[str, typer.Argument(metavar="EMAIL", help="The user's e-mail address.")]
RoleOption = Annotated[str, typer.Option("--role", metavar="ROLE", help="owner or analyst.")]


@app.command("grant")
def grant(ctx: typer.Context, email: Email, role: RoleOption, as_json: JsonFlag = False) -> None:
    """Grant an admin role (the user is created if they never signed in)."""
    run = Invocation(ctx, as_json=as_json)
    profile = run.call(lambda s: s.use_cases.set_role(s.actor, email, role, granted=True),
                       identity=Identity.USER_OR_OPERATOR)
    run.out.emit(views.profile_data(profile), views.role_changed("granted", role.strip().lower()))


@app.command("revoke")
def revoke(ctx: typer.Context, email: Email, role: RoleOption, as_json: JsonFlag = False) -> None:
    """Revoke an admin role."""
    run = Invocation(ctx, as_json=as_json)
    profile = run.call(lambda s: s.use_cases.set_role(s.actor, email, role, granted=False),
                       identity=Identity.USER_OR_OPERATOR)
    run.out.emit(views.profile_data(profile), views.role_changed("revoked", role.strip().lower()))


@app.command("list")
def list_admins(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List everyone holding an admin role."""
    run = Invocation(ctx, as_json=as_json)
    admins = run.call(lambda s: s.use_cases.list_admins(s.actor),
                      identity=Identity.USER_OR_OPERATOR)
    run.out.emit(views.profiles_data(admins), views.admins_table)
