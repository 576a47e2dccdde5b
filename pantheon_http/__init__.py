"""Pantheon's HTTP delivery: a FastAPI app over the core use cases.

``pantheon_http.app:create_app`` is the factory (``uvicorn --factory``). Routes parse
input, call one use case and render the result; rules live in ``pantheon_core``.
"""
