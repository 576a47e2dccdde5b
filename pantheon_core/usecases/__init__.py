"""Use cases: one class per thing a user (or operator) can do.

Each takes an :class:`~pantheon_core.actor.Actor`, checks what that actor may do,
runs inside one unit of work, and returns domain objects. HTTP, the CLI and the
tests all call these same classes; ``catalog.UseCases`` assembles them.
"""
