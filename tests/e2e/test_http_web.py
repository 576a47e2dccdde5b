"""The web app's static export served at ``/`` beside the API (pantheon_http/web.py).

A small export is laid out in a temporary directory, shaped like ``next build``'s
(``trailingSlash``: a folder with ``index.html`` per route, ``404.html``, hashed assets
under ``_next/static``), and the real app serves it over a fake container.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from pantheon_http.app import create_app
from pantheon_http.web import DEFAULT_WEB_DIR
from tests.e2e.conftest import BASE_URL, assert_error, make_settings
from tests.fakes import FakeApp

PAGES = {
    "index.html": "<!doctype html><title>home</title>",
    "signin/index.html": "<!doctype html><title>sign in</title>",
    "room/index.html": "<!doctype html><title>room</title>",
    "about.html": "<!doctype html><title>about</title>",
    "404.html": "<!doctype html><title>not found</title>",
    "_next/static/chunks/app-3f2a.js": "console.log('app')",
}
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
def export(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    for name, text in PAGES.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    return out


async def _client(fake: FakeApp, tmp_path: Path, web_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(container=fake.container(make_settings(tmp_path)), web_dir=web_dir)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url=BASE_URL) as client:
        yield client


@pytest.fixture
async def web(fake: FakeApp, tmp_path: Path, export: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(fake, tmp_path, export):
        yield client


async def test_serves_the_export_beside_the_api(web: httpx.AsyncClient) -> None:
    home = await web.get("/")
    assert home.status_code == 200 and "<title>home</title>" in home.text
    assert home.headers["content-type"].startswith("text/html")
    assert home.headers["cache-control"] == "no-cache"
    assert home.headers["x-content-type-options"] == "nosniff"
    assert (await web.get("/healthz")).json() == {"status": "ok"}
    assert (await web.get("/api/openapi.json")).status_code == 200


async def test_routes_are_folders_and_pages(web: httpx.AsyncClient) -> None:
    page = await web.get("/signin/")
    assert page.status_code == 200 and "sign in" in page.text
    redirected = await web.get("/room")
    assert redirected.status_code in (301, 302, 307, 308)
    assert redirected.headers["location"].endswith("/room/")
    query = await web.get("/room/?id=abc")  # screens take their ids in the query string
    assert query.status_code == 200 and "<title>room</title>" in query.text
    assert "about" in (await web.get("/about")).text


async def test_hashed_assets_are_cached_for_a_year(web: httpx.AsyncClient) -> None:
    asset = await web.get("/_next/static/chunks/app-3f2a.js")
    assert asset.status_code == 200 and asset.text == "console.log('app')"
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    etag = asset.headers["etag"]
    again = await web.get("/_next/static/chunks/app-3f2a.js", headers={"If-None-Match": etag})
    assert again.status_code == 304


async def test_unknown_pages_get_the_exports_404_page(web: httpx.AsyncClient) -> None:
    missing = await web.get("/no/such/page", headers=BROWSER)
    assert missing.status_code == 404 and "not found" in missing.text
    assert (await web.get("/_next/static/chunks/gone.js", headers=BROWSER)).status_code == 404


async def test_other_clients_get_the_json_404(web: httpx.AsyncClient) -> None:
    assert_error(await web.get("/no/such/page"), 404, "not_found")
    assert_error(await web.get("/_next/static/chunks/gone.js"), 404, "not_found")


async def test_the_api_keeps_its_own_json_errors(web: httpx.AsyncClient) -> None:
    assert_error(await web.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(await web.get("/api/elsewhere"), 404, "not_found")
    not_allowed = assert_error(await web.put("/api/v1/rooms"), 405, "method_not_allowed")
    assert "GET" in not_allowed["details"]["allowed"]  # a route matched: not the web app
    assert_error(await web.post("/signin/"), 405, "method_not_allowed")


async def test_paths_cannot_escape_the_export(web: httpx.AsyncClient, export: Path) -> None:
    (export.parent / "secret.txt").write_text("nope")
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/room/..%2f..%2fsecret.txt"):
        response = await web.get(path)
        assert "nope" not in response.text, path


async def test_without_a_build_a_page_says_how_to_build_it(fake: FakeApp,
                                                           tmp_path: Path) -> None:
    async for client in _client(fake, tmp_path, tmp_path / "not-built"):
        for path, headers in (("/", {}), ("/", BROWSER), ("/room/", BROWSER)):
            page = await client.get(path, headers=headers)
            assert page.status_code == 200
            assert "make web-build" in page.text and "/api/docs" in page.text
        assert_error(await client.get("/room/"), 404, "not_found")
        assert_error(await client.get("/api/v1/nothing-here"), 404, "not_found")
        assert (await client.get("/healthz")).status_code == 200


# Keys a browser bundle must never carry (NFR-SEC-002): provider, Stripe, Tavily, S3, JWT.
SECRET_PATTERNS = [r"sk-or-v1-[A-Za-z0-9]", r"sk_(live|test)_[A-Za-z0-9]", r"whsec_[A-Za-z0-9]",
                   r"tvly-[A-Za-z0-9]{8}", r"PANTHEON_(?!WEB_|PUBLIC_)[A-Z_]*(KEY|SECRET|PASSWORD)"]


@pytest.mark.skipif(not (DEFAULT_WEB_DIR / "index.html").is_file(),
                    reason="web/out is not built (make web-build)")
def test_nfr_sec_002_the_built_web_app_carries_no_secrets() -> None:
    pattern = re.compile("|".join(SECRET_PATTERNS))
    leaks = [f"{path.relative_to(DEFAULT_WEB_DIR)}: {match.group(0)}"
             for path in DEFAULT_WEB_DIR.rglob("*")
             if path.is_file() and path.suffix in {".js", ".html", ".txt", ".json", ".css"}
             for match in [pattern.search(path.read_text(errors="replace"))] if match]
    assert leaks == []
