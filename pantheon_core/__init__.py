"""Pantheon's core: domain rules, ports and use cases, free of any framework.

Only the standard library, ``anyio`` and ``pydantic`` may be imported here
(checked by import-linter). Adapters implement the ports in ``ports/``;
delivery packages call the use cases in ``usecases/``.
"""
