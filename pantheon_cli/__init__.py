"""The ``pantheon`` command line: Typer + Rich, driving core use cases in-process.

Layout: :mod:`pantheon_cli.main` only assembles the app; each command group lives in
``pantheon_cli.commands``; ``pantheon_cli.views`` turns core results into the data model
that ``--json`` prints and the Rich tables render; :mod:`pantheon_cli.runner` builds the
container once per invocation and turns core errors into one line and an exit code;
:mod:`pantheon_cli.streaming` follows a running turn (NDJSON, or live Rich panels).
"""
