"""Streaming overhead of Pantheon's direct chat vs a LiteLLM proxy, over one fake provider.

Entry point: ``python -m bench.stream_overhead.run`` (``make bench``).
"""
