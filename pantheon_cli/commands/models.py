"""``pantheon models``: the model aliases, their provider models and prices."""

from __future__ import annotations

import typer

from pantheon_cli.options import JsonFlag
from pantheon_cli.runner import Identity, Invocation, Session
from pantheon_cli.views import models as views

app = typer.Typer(help="Model aliases, provider models and prices.", no_args_is_help=True)


@app.command("list")
def list_models(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List every model alias with its provider model, $/Mtok prices and credit multiplier."""
    run = Invocation(ctx, as_json=as_json)

    async def fetch(s: Session) -> views.CatalogView:
        pricing = await s.use_cases.list_models()
        manager = await s.use_cases.get_manager_model()
        return views.catalog_data(pricing, manager=manager,
                                  llm_backend=s.container.settings.llm_backend)

    run.out.emit(run.call(fetch, identity=Identity.NONE), views.catalog_table)
