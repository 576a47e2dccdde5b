"""Schema migrations, driven from code: no ``alembic.ini``, the URL passed in.

Synchronous on purpose: bootstrap runs these in a worker thread while the app's event
loop keeps running, and Alembic works on a sync driver (see ``migrations/env.py``).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

import migrations
from pantheon_adapters.sql.urls import sqlite_file, sync_url

URL_ATTRIBUTE = "pantheon_database_url"


def alembic_config(url: str) -> Config:
    """An Alembic ``Config`` for the ``migrations`` package and the database at ``url``.

    The URL travels in ``Config.attributes`` rather than an ini option, so passwords with
    ``%`` in them need no escaping.
    """
    config = Config()
    config.set_main_option("script_location", str(_migrations_dir()))
    config.set_main_option("path_separator", "os")
    config.attributes[URL_ATTRIBUTE] = url
    return config


def _migrations_dir() -> Path:
    # ``__path__`` rather than ``__file__``: an editable install made before the package had
    # an ``__init__.py`` maps it as a namespace package, whose ``__file__`` is None.
    return Path(next(iter(migrations.__path__)))


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def is_known_revision(revision: str | None) -> bool:
    """Whether this code's migrations hold ``revision`` (None, an empty database, is known).
    A database at an unknown revision is *ahead* of this code: a newer release migrated it."""
    if revision is None:
        return True
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return any(r.revision == revision for r in script.walk_revisions())


def status(url: str) -> dict[str, str | None]:
    """``{"current": revision or None, "head": revision}``; never creates a database."""
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    path = sqlite_file(url)
    if path is not None and not Path(path).exists():
        return {"current": None, "head": head}
    engine = create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    return {"current": current, "head": head}
