"""``pantheon auth``: read sign-in links from the outbox; manage personal API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from pantheon_cli.options import JsonFlag
from pantheon_cli.runner import Identity, Invocation, Session
from pantheon_cli.views import auth as views
from pantheon_core.domain.users import normalize_email
from pantheon_core.errors import NotFound

app = typer.Typer(help="Sign-in links and personal API tokens.", no_args_is_help=True)
tokens = typer.Typer(help="Personal API tokens (Bearer) for scripts.", no_args_is_help=True)
app.add_typer(tokens, name="token")


@app.command("link")
def login_link(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Whose sign-in link to print.")],
    new: Annotated[bool, typer.Option("--new", help="Request a fresh link first.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Print the newest sign-in link e-mailed to EMAIL (from the development outbox)."""
    run = Invocation(ctx, as_json=as_json)

    async def fetch(s: Session) -> views.LoginLinkView:
        address = normalize_email(email)
        if new:
            await s.use_cases.request_magic_link(address, client="cli")
        link = s.container.latest_login_link(address)
        if link is None:
            raise no_link(address, s.container.settings.effective_mail_backend)
        return views.LoginLinkView(email=address, link=link)

    run.out.emit(run.call(fetch, identity=Identity.NONE), views.login_link_view,
                 soft_wrap=True)


def no_link(address: str, mail_backend: str) -> NotFound:
    """Why there is no link to print, and what to do about it."""
    if mail_backend != "outbox":
        message = (f"Sign-in mail goes out over {mail_backend.upper()}, so no links are kept "
                   f"for {address}; check that mailbox.")
    else:
        message = (f"No sign-in link for {address} in the outbox; request one with "
                   f"pantheon auth link {address} --new.")
    return NotFound(message, code="login_link_not_found", details={"email": address})


@tokens.command("create")
def create_token(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    expires_in_days: Annotated[int | None, typer.Option(
        "--expires-in-days", metavar="DAYS", help="Lifetime in days (default: no expiry).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an API token; its secret is printed once, now."""
    run = Invocation(ctx, as_json=as_json)

    async def create(s: Session) -> views.IssuedTokenView:
        issued = await s.use_cases.create_api_token(s.actor, name=name,
                                                    expires_in_days=expires_in_days)
        return views.issued_data(issued, s.container.clock.now())

    run.out.emit(run.call(create), views.issued_view, soft_wrap=True)
    if as_json:
        run.out.notice(views.SHOWN_ONCE)


@tokens.command("list")
def list_tokens(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List your API tokens (never their secrets)."""
    run = Invocation(ctx, as_json=as_json)

    async def fetch(s: Session) -> list[views.TokenView]:
        found = await s.use_cases.list_api_tokens(s.actor)
        return views.tokens_data(found, s.container.clock.now())

    run.out.emit(run.call(fetch), views.tokens_table)


@tokens.command("revoke")
def revoke_token(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(metavar="ID", help="The token's id.")],
    as_json: JsonFlag = False,
) -> None:
    """Revoke an API token; it stops working at once."""
    run = Invocation(ctx, as_json=as_json)

    async def revoke(s: Session) -> views.TokenView:
        token = await s.use_cases.revoke_api_token(s.actor, token_id)
        return views.token_data(token, s.container.clock.now())

    run.out.emit(run.call(revoke), views.revoked_view)
