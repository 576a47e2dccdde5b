"""Logs, metrics and error reports (NFR-OBS-001..003); see docs/observability.md."""
