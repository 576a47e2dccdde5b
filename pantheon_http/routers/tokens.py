"""Personal API tokens for scripts (FR-AUTH-002): ``Authorization: Bearer pan_…``."""

from __future__ import annotations

from fastapi import APIRouter

from pantheon_http.auth import CurrentActor
from pantheon_http.deps import ContainerDep
from pantheon_http.params import TokenIdPath
from pantheon_http.schemas.auth import TokenCreate, TokenIssued, TokenList, TokenOut
from pantheon_http.schemas.base import error_responses

router = APIRouter(prefix="/auth/tokens", tags=["auth"], responses=error_responses(401))


@router.get("", summary="List your API tokens")
async def list_tokens(actor: CurrentActor, container: ContainerDep) -> TokenList:
    tokens = await container.use_cases.list_api_tokens(actor)
    now = container.clock.now()
    return TokenList(tokens=[TokenOut.of(t, now) for t in tokens])


@router.post("", status_code=201, summary="Create an API token",
             responses=error_responses(422))
async def create_token(body: TokenCreate, actor: CurrentActor,
                       container: ContainerDep) -> TokenIssued:
    """The ``secret`` is in this response only; store it now."""
    issued = await container.use_cases.create_api_token(
        actor, name=body.name, expires_in_days=body.expires_in_days)
    return TokenIssued.of(issued, container.clock.now())


@router.delete("/{token_id}", summary="Revoke an API token", responses=error_responses(404))
async def revoke_token(token_id: TokenIdPath, actor: CurrentActor,
                       container: ContainerDep) -> TokenOut:
    """Revoking is immediate and idempotent; the revoked token is returned."""
    token = await container.use_cases.revoke_api_token(actor, token_id)
    return TokenOut.of(token, container.clock.now())
