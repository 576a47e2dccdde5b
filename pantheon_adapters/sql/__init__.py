"""The SQL adapter: repositories and the unit of work over SQLAlchemy Core, and migrations.

Runs on SQLite (the embedded default, ``sqlite+aiosqlite``) and PostgreSQL
(``postgresql+asyncpg`` in the app, ``postgresql+psycopg`` for migrations). Domain entities
stay plain dataclasses: every repository maps rows to entities and back explicitly. Only
:mod:`pantheon_adapters.bootstrap` imports from here.
"""
