"""``pantheon serve`` and ``pantheon worker``: start the long-running processes.

Both are launched *by name* (an import string for uvicorn, ``importlib`` for the worker):
delivery packages never import each other, so the CLI only says which process to start.
Command-line overrides reach them through the ``PANTHEON_*`` environment, which is where
their own ``load_settings()`` reads.
"""

from __future__ import annotations

import importlib
import os
from typing import Annotated

import typer
from rich.text import Text

from pantheon_adapters.bootstrap import database_upgrade, shared_metrics_dir
from pantheon_cli.runner import Invocation

APP_FACTORY = "pantheon_http.app:create_app"
WORKER_MODULE = "pantheon_worker.app"


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Interface to bind (default: "
                                                  "PANTHEON_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: PANTHEON_PORT, else PORT, "
                                                  "else 8000).")] = None,
    reload: Annotated[bool, typer.Option(help="Restart when the code changes "
                                              "(development).")] = False,
    workers: Annotated[int, typer.Option(min=1, help="Server processes sharing the port (one "
                                                     "event loop each; more than one wants "
                                                     "PostgreSQL and Redis).")] = 1,
) -> None:
    """Run the web app and API; the embedded database is migrated first."""
    import uvicorn

    run = Invocation(ctx)
    settings = run.settings()
    if workers > 1 and reload:
        run.out.usage_error("workers_with_reload", "--reload runs one process: drop --workers "
                                                   "or --reload.")
    host, port = host or settings.host, port or settings.port
    if settings.should_auto_migrate:
        with run.out.status("Migrating the database…"):
            run.database(database_upgrade, settings, "head")
    run.options.export()
    if "public_url" not in settings.model_fields_set:
        # Sign-in links must point at the address actually being served.
        os.environ["PANTHEON_PUBLIC_URL"] = f"http://{host}:{port}"
    url = f"http://{host}:{port}"
    run.out.console.print(Text.assemble(("Pantheon", "bold"), " on ", (url, "bold cyan"),
                                        f"  (API docs: {url}/api/docs)"))
    # Pantheon writes its own access log (without query strings, which can carry sign-in
    # tokens). X-Forwarded-For/-Proto (the client's address, https) are believed only from
    # PANTHEON_FORWARDED_ALLOW_IPS (default: a proxy on this machine).
    # Several workers write their metrics to one directory, so that /metrics, whichever
    # worker answers, is the server's; it is in the environment they are spawned with.
    with shared_metrics_dir(workers):
        uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, reload=reload,
                    workers=workers if workers > 1 else None,
                    log_level=settings.log_level.lower(), access_log=False,
                    proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips)


def worker(
    ctx: typer.Context,
    processes: Annotated[int, typer.Option(min=1, help="Worker processes (more than one "
                                                       "needs PANTHEON_REDIS_URL).")] = 1,
    threads: Annotated[int, typer.Option(min=1, help="Threads per process.")] = 4,
) -> None:
    """Run the background job worker until Ctrl-C (Redis broker, else in-process)."""
    run = Invocation(ctx)
    settings = run.settings()
    if processes > 1 and not settings.redis_url:
        run.out.usage_error("redis_required", "Several worker processes share a queue only "
                                              "through Redis: set PANTHEON_REDIS_URL.")
    run.options.export()  # run_worker sets up logging (PANTHEON_LOG_FORMAT) itself
    broker = "Redis" if settings.redis_url else "in-memory"
    run.out.console.print(Text(f"Pantheon worker: {processes} process(es) × {threads} threads, "
                               f"{broker} broker. Ctrl-C stops it.", style="bold"))
    importlib.import_module(WORKER_MODULE).run_worker(settings, processes=processes,
                                                      threads=threads)
