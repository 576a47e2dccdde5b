"""The signed-in user."""

from __future__ import annotations

from fastapi import APIRouter

from pantheon_http.auth import CurrentActor
from pantheon_http.deps import UseCasesDep
from pantheon_http.schemas.base import error_responses
from pantheon_http.schemas.me import MeOut

router = APIRouter(tags=["me"], responses=error_responses(401))


@router.get("/me", summary="Who am I")
async def me(actor: CurrentActor, use_cases: UseCasesDep) -> MeOut:
    return MeOut.of_profile(await use_cases.get_profile(actor))
