"""The interactive API docs, served with their own assets: nothing is fetched from a CDN.

Swagger UI's files come from the ``fastapi-offline`` package (a Swagger UI 5 bundle,
which renders FastAPI's OpenAPI 3.1 documents). The page's Content-Security-Policy allows
its bundle and the hash of its one inline bootstrap script.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from pantheon_http.csp import docs_csp, inline_script_hashes

DOCS_URL = "/api/docs"
ASSETS_URL = "/api/docs/assets"
_ASSETS = Path(fastapi_offline.__file__).parent / "static"


def install_docs(app: FastAPI, *, openapi_url: str) -> None:
    app.mount(ASSETS_URL, StaticFiles(directory=_ASSETS), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} — docs",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            # No badge fetched from validator.swagger.io: nothing leaves this origin.
            swagger_ui_parameters={"validatorUrl": None},
        )
        hashes = inline_script_hashes(bytes(page.body).decode("utf-8"))
        page.headers["Content-Security-Policy"] = docs_csp(hashes)
        return page
