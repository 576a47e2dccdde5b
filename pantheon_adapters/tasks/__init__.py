"""BackgroundTasks adapters."""
