"""``python -m pantheon_cli``: the same as the ``pantheon`` console script."""

from pantheon_cli.main import run

run()
