"""Adapters: the implementations of core's ports, and ``bootstrap``, the one composition root.

Delivery packages (http, cli, worker) import only :mod:`pantheon_adapters.bootstrap`.
"""
