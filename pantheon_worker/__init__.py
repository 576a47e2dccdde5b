"""The worker process: Dramatiq actors that call core use cases, plus periodic jobs."""
