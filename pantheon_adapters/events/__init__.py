"""TurnEvents adapters: in-process (embedded default) and Redis (several API processes)."""
