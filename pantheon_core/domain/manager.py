"""The orchestrator's manager model: ``deepseek`` unless an admin chose another (FR-MODE-004)."""

from __future__ import annotations

from pantheon_core.domain.agents import ModelAlias, parse_alias
from pantheon_core.errors import InvalidInput

MANAGER_MODEL_KEY = "orchestrator.manager_model"
DEFAULT_MANAGER_ALIAS = ModelAlias.DEEPSEEK


def manager_alias(stored: str | None) -> ModelAlias:
    """The stored setting, or the default when unset or no longer a valid alias."""
    if stored is None:
        return DEFAULT_MANAGER_ALIAS
    try:
        return parse_alias(stored)
    except InvalidInput:
        return DEFAULT_MANAGER_ALIAS
