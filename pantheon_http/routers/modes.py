"""Mode switching (FR-ROOM-004): a chosen mode is pending until the room's next send."""

from __future__ import annotations

from fastapi import APIRouter

from pantheon_http.auth import CurrentActor
from pantheon_http.deps import UseCasesDep
from pantheon_http.params import RoomIdPath
from pantheon_http.schemas.base import error_responses
from pantheon_http.schemas.rooms import ModeChange, RoomOut

router = APIRouter(prefix="/rooms", tags=["modes"], responses=error_responses(401, 404, 422))


@router.put("/{room_id}/mode", summary="Choose the mode for the next send")
async def set_mode(room_id: RoomIdPath, body: ModeChange, actor: CurrentActor,
                   use_cases: UseCasesDep) -> RoomOut:
    """Sets ``pending_mode`` only; ``current_mode`` and any running turn are untouched.
    ``mode_note`` says what the next send will do."""
    return RoomOut.of(await use_cases.request_mode(actor, room_id, body.mode))
