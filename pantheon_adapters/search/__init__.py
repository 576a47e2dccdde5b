"""Web search adapters: implementations of ``pantheon_core.ports.web_search.WebSearch``."""
