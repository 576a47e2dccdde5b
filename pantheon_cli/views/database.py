"""Database migration status: the revision the database is at, and the newest one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict
from urllib.parse import urlsplit, urlunsplit

from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from pantheon_cli.views.cells import NONE, label


class MigrationView(TypedDict):
    database: str
    current: str | None
    head: str | None
    up_to_date: bool


def migration_data(database_url: str, status: Mapping[str, str | None]) -> MigrationView:
    current, head = status.get("current"), status.get("head")
    return MigrationView(database=redacted(database_url), current=current, head=head,
                         up_to_date=current is not None and current == head)


def redacted(url: str) -> str:
    """The URL without its password, safe to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def migration_view(data: MigrationView) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(label("Database"), data["database"])
    grid.add_row(label("Current"), data["current"] or Text("empty (no migrations applied)",
                                                           style="yellow"))
    grid.add_row(label("Head"), data["head"] or NONE)
    state = (Text("up to date", style="bold green") if data["up_to_date"]
             else Text("behind: run pantheon db upgrade", style="bold yellow"))
    grid.add_row(label("Status"), state)
    return Panel(grid, title="Database", title_align="left", expand=False)
