"""Alembic migrations: one history, run on SQLite and PostgreSQL.

Driven by :mod:`pantheon_adapters.sql.migrate` (``pantheon db upgrade``), which builds the
Alembic configuration in code. New revisions: write them by hand, or autogenerate against
``pantheon_adapters.sql.tables.metadata`` and clean up, keeping batch operations so they
run on SQLite.
"""
