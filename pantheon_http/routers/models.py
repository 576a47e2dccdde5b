"""The model catalogue: aliases, the provider models behind them, prices and credit rules."""

from __future__ import annotations

from fastapi import APIRouter

from pantheon_http.auth import CurrentActor
from pantheon_http.deps import UseCasesDep
from pantheon_http.schemas.base import error_responses
from pantheon_http.schemas.models import ModelsOut

router = APIRouter(tags=["models"], responses=error_responses(401))


@router.get("/models", summary="Model aliases, prices and the credit formula's numbers")
async def list_models(actor: CurrentActor, use_cases: UseCasesDep) -> ModelsOut:
    """The pricing version in force, and the orchestrator's manager model."""
    pricing = await use_cases.list_models()
    return ModelsOut.of(pricing, await use_cases.get_manager_model())
