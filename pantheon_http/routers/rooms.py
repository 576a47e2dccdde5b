"""Rooms (FR-ROOM-001..003, FR-DATA-002): someone else's room is always 404."""

from __future__ import annotations

from fastapi import APIRouter, Query

from pantheon_http.auth import CurrentActor
from pantheon_http.deps import UseCasesDep
from pantheon_http.params import RoomIdPath
from pantheon_http.schemas.base import error_responses
from pantheon_http.schemas.rooms import RoomCreate, RoomDetailOut, RoomList, RoomOut, RoomPatch

router = APIRouter(prefix="/rooms", tags=["rooms"], responses=error_responses(401, 404))


@router.get("", summary="List your rooms")
async def list_rooms(actor: CurrentActor, use_cases: UseCasesDep,
                     deleted: bool = Query(False, description="List the 7-day trash instead.")
                     ) -> RoomList:
    rooms = await use_cases.list_rooms(actor, deleted=deleted)
    return RoomList(rooms=[RoomOut.of(r) for r in rooms])


@router.post("", status_code=201, summary="Create a room", responses=error_responses(422))
async def create_room(body: RoomCreate, actor: CurrentActor, use_cases: UseCasesDep) -> RoomOut:
    room = await use_cases.create_room(actor, name=body.name, description=body.description,
                                       mode=body.mode)
    return RoomOut.of(room)


@router.get("/{room_id}", summary="A room with its agents")
async def get_room(room_id: RoomIdPath, actor: CurrentActor,
                   use_cases: UseCasesDep) -> RoomDetailOut:
    return RoomDetailOut.of_detail(await use_cases.get_room(actor, room_id))


@router.patch("/{room_id}", summary="Rename a room or change its description",
              responses=error_responses(422))
async def update_room(room_id: RoomIdPath, body: RoomPatch, actor: CurrentActor,
                      use_cases: UseCasesDep) -> RoomOut:
    room = await use_cases.update_room(actor, room_id, name=body.name,
                                       description=body.description)
    return RoomOut.of(room)


@router.delete("/{room_id}", summary="Delete a room (restorable for 7 days)",
               responses=error_responses(409))
async def delete_room(room_id: RoomIdPath, actor: CurrentActor, use_cases: UseCasesDep) -> RoomOut:
    return RoomOut.of(await use_cases.delete_room(actor, room_id))


@router.post("/{room_id}/restore", summary="Restore a deleted room",
             responses=error_responses(409, 410))
async def restore_room(room_id: RoomIdPath, actor: CurrentActor, use_cases: UseCasesDep) -> RoomOut:
    return RoomOut.of(await use_cases.restore_room(actor, room_id))
