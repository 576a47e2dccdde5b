"""``pantheon db``: migrate the database (upgrade, downgrade) and show where it stands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import typer

from pantheon_adapters.bootstrap import (
    Settings,
    database_current,
    database_downgrade,
    database_upgrade,
    revision_known,
)
from pantheon_cli.options import JsonFlag
from pantheon_cli.runner import Invocation
from pantheon_cli.views import database as views

app = typer.Typer(help="Database migrations (one Alembic history for SQLite and PostgreSQL).",
                  no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(metavar="REV", help="Target revision.")] = "head",
    as_json: JsonFlag = False,
) -> None:
    """Migrate the database up to REV (default: the newest)."""
    _migrate(ctx, database_upgrade, revision, "Upgrading", as_json=as_json)


@app.command("downgrade")
def downgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(metavar="REV",
                                            help="Target revision, e.g. -1 or base.")],
    as_json: JsonFlag = False,
) -> None:
    """Migrate the database down to REV."""
    _migrate(ctx, database_downgrade, revision, "Downgrading", as_json=as_json)


def _migrate(ctx: typer.Context, move: Callable[[Settings, str], Awaitable[None]], revision: str,
             verb: str, *, as_json: bool) -> None:
    run = Invocation(ctx, as_json=as_json)
    settings = run.settings()
    with run.out.status(f"{verb} the database to {revision}…"):
        run.database(move, settings, revision)
    status = run.database(database_current, settings)
    run.out.emit(views.migration_data(settings.effective_database_url, status,
                                      current_known=revision_known(status.get("current"))),
                 views.migration_view)


@app.command("current")
def current(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Show the database's revision and the newest one."""
    run = Invocation(ctx, as_json=as_json)
    settings = run.settings()
    status = run.database(database_current, settings)
    run.out.emit(views.migration_data(settings.effective_database_url, status,
                                      current_known=revision_known(status.get("current"))),
                 views.migration_view)
