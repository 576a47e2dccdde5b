"""Alembic revisions, chained by ``down_revision``; see ``migrations/__init__.py``."""
