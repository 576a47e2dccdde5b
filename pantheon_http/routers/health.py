"""Probes for orchestrators: liveness (no I/O) and readiness (every dependency answers)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from pantheon_http.deps import ContainerDep
from pantheon_http.schemas.health import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> Health:
    return Health()


@router.get("/readyz", summary="Every dependency answers", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "A dependency is down."}})
async def readyz(container: ContainerDep) -> JSONResponse:
    checks = await container.readiness()
    ready = all(result == "ok" for result in checks.values())
    body = Readiness(status="ready" if ready else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
