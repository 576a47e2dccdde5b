"""Sign-in links and personal API tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from pantheon_cli.views.cells import iso, when
from pantheon_core.domain.credentials import ApiToken
from pantheon_core.usecases.tokens import IssuedToken

SHOWN_ONCE = "Copy it now: this secret is shown only once and cannot be shown again."


class LoginLinkView(TypedDict):
    email: str
    link: str


class TokenView(TypedDict):
    id: str
    name: str
    hint: str
    status: str
    created_at: str | None
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None


class IssuedTokenView(TypedDict):
    token: TokenView
    secret: str


def token_data(token: ApiToken, now: datetime) -> TokenView:
    return TokenView(
        id=token.id, name=token.name, hint=token.hint, status=token.status_at(now),
        created_at=iso(token.created_at), expires_at=iso(token.expires_at),
        last_used_at=iso(token.last_used_at), revoked_at=iso(token.revoked_at),
    )


def tokens_data(tokens: Sequence[ApiToken], now: datetime) -> list[TokenView]:
    return [token_data(token, now) for token in tokens]


def issued_data(issued: IssuedToken, now: datetime) -> IssuedTokenView:
    return IssuedTokenView(token=token_data(issued.token, now), secret=issued.secret)


def login_link_view(data: LoginLinkView) -> RenderableType:
    return Group(Text(f"Newest sign-in link for {data['email']}:", style="dim"),
                 Text(data["link"], style="bold"))


def issued_view(data: IssuedTokenView) -> RenderableType:
    token = data["token"]
    expires = when(token["expires_at"]) if token["expires_at"] else "never"
    return Group(
        Text.assemble(("Created API token ", "green"), (token["name"], "bold"),
                      f" (id {token['id']}, expires {expires}):"),
        Text(data["secret"], style="bold"),
        Text(SHOWN_ONCE, style="bold yellow"),
    )


_STATUS_STYLE = {"active": "green", "expired": "yellow", "revoked": "red"}


def tokens_table(tokens: list[TokenView]) -> RenderableType:
    if not tokens:
        return Text("No API tokens. Create one: pantheon auth token create --name NAME",
                    style="dim")
    table = Table(title="API tokens", title_justify="left")
    table.add_column("Name", style="bold", overflow="fold")
    table.add_column("Token", no_wrap=True)
    table.add_column("Status")
    table.add_column("Expires", no_wrap=True)
    table.add_column("ID", style="dim", overflow="fold")
    for token in tokens:
        table.add_row(token["name"], token["hint"],
                      Text(token["status"], style=_STATUS_STYLE.get(token["status"], "")),
                      when(token["expires_at"]), token["id"])
    return table


def revoked_view(token: TokenView) -> RenderableType:
    return Text.assemble(("Revoked ", "green"), (token["name"], "bold"),
                         f" ({token['hint']}). It no longer signs anyone in.")
