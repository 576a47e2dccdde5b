"""Request and response models, one module per endpoint family.

Requests are strict (a JSON number is not a name) and ignore unknown fields. Fields
whose rules live in core (names, modes, model aliases, prompts) are plain strings so
core raises its typed error; the schema documents the allowed values. Responses are
explicit models built from domain objects, never the domain objects themselves.
"""
