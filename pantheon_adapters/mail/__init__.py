"""Mailers: a development outbox (files plus the server log) and SMTP for production."""
