"""The ``pantheon`` app: global options and the command groups, assembled. No logic here."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import typer

from pantheon_cli.commands import (
    admin,
    agents,
    auth,
    billing,
    chat,
    db,
    direct,
    files,
    jobs,
    models,
    retention,
    rooms,
    server,
    turns,
)
from pantheon_cli.runner import GlobalOptions

app = typer.Typer(
    name="pantheon",
    help="Pantheon: rooms of AI agents. Drives the product in-process against its database.",
    no_args_is_help=True,
    add_completion=False,
    # A traceback means a bug, not a user mistake: keep it plain and free of local values.
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("chat")(chat.chat)
app.command("serve")(server.serve)
app.command("worker")(server.worker)
app.add_typer(db.app, name="db")
app.add_typer(auth.app, name="auth")
app.add_typer(rooms.app, name="rooms")
app.add_typer(agents.app, name="agents")
app.add_typer(direct.app, name="direct")
app.add_typer(files.app, name="files")
app.add_typer(jobs.app, name="jobs")
app.add_typer(retention.app, name="retention")
app.add_typer(turns.app, name="turns")
app.add_typer(models.app, name="models")
app.add_typer(billing.app, name="billing")
app.add_typer(admin.app, name="admin")


def _print_version(value: bool) -> None:
    if value:
        try:
            typer.echo(f"pantheon {version('pantheon')}")
        except PackageNotFoundError:
            typer.echo("pantheon (not installed)")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    as_email: Annotated[str | None, typer.Option(
        "--as", metavar="EMAIL", envvar="PANTHEON_USER",
        help="Act as this user (created on first use).")] = None,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="Where the embedded database, outbox and files live "
                           "(PANTHEON_DATA_DIR).")] = None,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", metavar="URL", help="Use this database instead of the embedded "
                                              "SQLite (PANTHEON_DATABASE_URL).")] = None,
    show_version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    """Pantheon: rooms of AI agents that answer in manual, roundtable or orchestrator mode."""
    ctx.obj = GlobalOptions(as_email=as_email, data_dir=data_dir, database_url=database_url)


def run() -> None:
    """Console-script entry point."""
    app()
