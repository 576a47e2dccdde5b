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
    state: str  # up_to_date | behind | ahead (a revision this code does not know) | empty


def migration_data(database_url: str, status: Mapping[str, str | None], *,
                   current_known: bool = True) -> MigrationView:
    current, head = status.get("current"), status.get("head")
    up_to_date = current is not None and current == head
    state = ("up_to_date" if up_to_date else "empty" if current is None
             else "behind" if current_known else "ahead")
    return MigrationView(database=redacted(database_url), current=current, head=head,
                         up_to_date=up_to_date, state=state)


def redacted(url: str) -> str:
    """The URL without its password, safe to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


_STATES = {
    "up_to_date": Text("up to date", style="bold green"),
    "behind": Text("behind: run pantheon db upgrade", style="bold yellow"),
    "empty": Text("empty: run pantheon db upgrade", style="bold yellow"),
    "ahead": Text("ahead of this code: a newer release migrated it (its revision is unknown "
                  "here); downgrade with that release first (docs/runbooks/rollback.md)",
                  style="bold red"),
}


def migration_view(data: MigrationView) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(label("Database"), data["database"])
    grid.add_row(label("Current"), data["current"] or Text("empty (no migrations applied)",
                                                           style="yellow"))
    grid.add_row(label("Head"), data["head"] or NONE)
    grid.add_row(label("Status"), _STATES[data["state"]])
    return Panel(grid, title="Database", title_align="left", expand=False)
