"""Probes and the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

import httpx

from pantheon_adapters.bootstrap import Container
from pantheon_http.app import create_app
from tests.e2e.conftest import BASE_URL, assert_error, make_settings
from tests.fakes import FakeApp


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def _probe(container: Container) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(container=container))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        return await client.get("/readyz")


async def test_readyz_reports_every_check(fake: FakeApp, tmp_path: Path) -> None:
    async def fine() -> None:
        return None

    container = fake.container(make_settings(tmp_path),
                               readiness_checks={"database": fine, "redis": fine})
    response = await _probe(container)
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}


async def test_readyz_is_503_when_a_dependency_is_down(fake: FakeApp, tmp_path: Path) -> None:
    async def fine() -> None:
        return None

    async def down() -> None:
        raise ConnectionRefusedError("connection refused")

    container = fake.container(make_settings(tmp_path),
                               readiness_checks={"database": fine, "redis": down})
    response = await _probe(container)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready" and body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("error: ConnectionRefusedError")


async def test_readyz_before_startup_is_503(tmp_path: Path) -> None:
    """An app whose lifespan has not run yet has no container: not ready, not a crash."""
    transport = httpx.ASGITransport(app=create_app(make_settings(tmp_path)))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        assert_error(await client.get("/readyz"), 503, "not_ready")
        assert (await client.get("/healthz")).status_code == 200


async def test_openapi_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Pantheon API" and schema["info"]["version"]
    assert set(schema["components"]["securitySchemes"]) == {"BearerToken", "SessionCookie"}
    operations = {op["operationId"] for ops in schema["paths"].values() for op in ops.values()}
    assert {"create_room", "set_mode", "add_agent", "reorder_agents", "verify_magic_link"} \
        <= operations
    create_room = schema["paths"]["/api/v1/rooms"]["post"]
    assert create_room["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"}
    mode = schema["components"]["schemas"]["ModeChange"]["properties"]["mode"]
    assert mode["enum"] == ["manual", "roundtable", "orchestrator"]
    alias = schema["components"]["schemas"]["AgentCreate"]["properties"]["model_alias"]
    assert alias["enum"] == ["llama", "qwen", "deepseek", "gpt_oss", "premium"]


async def test_docs_page_loads_with_local_assets_only(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/docs")
    assert response.status_code == 200
    assert "/api/openapi.json" in response.text
    assert "cdn." not in response.text and "https://" not in response.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/api/docs/assets/{asset}" in response.text
        served = await client.get(f"/api/docs/assets/{asset}")
        assert served.status_code == 200
        assert len(served.content) > 10_000
