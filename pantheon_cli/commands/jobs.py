"""``pantheon jobs``: what the background workers did — every execution of every job."""

from __future__ import annotations

from typing import Annotated

import typer

from pantheon_cli.options import JsonFlag
from pantheon_cli.runner import Identity, Invocation
from pantheon_cli.views import jobs as views

app = typer.Typer(help="Background jobs: parses, purges and their runs.", no_args_is_help=True)


@app.command("runs")
def runs(ctx: typer.Context,
         name: Annotated[str | None, typer.Option("--name", metavar="JOB",
                                                  help="parse_file or "
                                                       "purge_expired_credentials.")] = None,
         status: Annotated[str | None, typer.Option(
             "--status", metavar="STATUS",
             help="running, succeeded, retrying, failed or abandoned.")] = None,
         limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 50,
         as_json: JsonFlag = False) -> None:
    """List recent job runs, newest first (admins and the local operator)."""
    run = Invocation(ctx, as_json=as_json)
    found = run.call(lambda s: s.use_cases.list_job_runs(s.actor, name=name, status=status,
                                                         limit=limit),
                     identity=Identity.USER_OR_OPERATOR)
    run.out.emit(views.runs_data(found), views.runs_table)
