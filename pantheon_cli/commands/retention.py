"""``pantheon retention``: run the purge jobs now (FR-DATA-001..003), or see what they would
purge."""

from __future__ import annotations

from typing import Annotated

import typer

from pantheon_cli.options import JsonFlag
from pantheon_cli.runner import Identity, Invocation
from pantheon_cli.views import retention as views

app = typer.Typer(help="Retention: purge the 7-day trash and data older than the retention "
                       "window (PANTHEON_RETENTION_DAYS).", no_args_is_help=True)


@app.command("run")
def run_retention(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Only count what would be purged; change nothing.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Run purge_deleted and purge_expired_content now, and show what each purged per kind
    (rows, stored objects and bytes). The local operator or an owner; a dry run also an
    analyst. A real run is recorded in `pantheon jobs runs`."""
    run = Invocation(ctx, as_json=as_json)
    if dry_run:
        reports = run.call(lambda s: s.use_cases.run_retention(s.actor, dry_run=True),
                           identity=Identity.USER_OR_OPERATOR)
    else:
        with views.purge_progress(run.out.stderr) as display:
            reports = run.call(lambda s: s.use_cases.run_retention(s.actor,
                                                                   progress=display.update),
                               identity=Identity.USER_OR_OPERATOR)
    run.out.emit(views.reports_data(reports), views.reports_view)
