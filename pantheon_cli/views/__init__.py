"""Views: core results turned into the CLI's data model, and that model rendered with Rich.

Each module has two halves. ``*_data`` functions build plain, JSON-ready dictionaries
(typed as ``TypedDict``s: the ``--json`` contract). Renderers take exactly those
dictionaries and return Rich renderables, so a table can never show something the
JSON lacks.
"""
