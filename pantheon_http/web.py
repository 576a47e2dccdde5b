"""The web app (``web/``, a Next.js static export) served at ``/`` beside ``/api/v1``.

It is the router's *default*: only a request that no route matched reaches it, so the
API's own answers (its 404s and 405s with ``Allow``) are untouched. For such a request:

- a path under ``/api/`` or a probe: the API's JSON 404, never HTML;
- a file of the export: that file. Hashed build assets (``/_next/static/…``) are cached
  for a year; HTML and everything else is revalidated on every visit;
- a directory: its ``index.html`` (``/room`` is redirected to ``/room/`` first);
- ``/x`` where the export has ``x.html``: that page;
- anything else: a 404 in the shape the client asked for — the export's ``404.html`` for a
  browser (``Accept`` names ``text/html``), the API's JSON 404 for anyone else;
- only GET and HEAD: other methods are 405.

Every page gets a Content-Security-Policy that lists the SHA-256 of its own inline scripts
(the export's bootstrap), worked out on first serve and cached (``pantheon_http/csp.py``);
the other security headers come from ``SecurityHeadersMiddleware``.

Without a build (``web/out`` missing), ``/`` and every browser page request get a small
self-contained page saying how to build it (others the JSON 404): the API works the same,
and the server never fails for want of the web app.
"""

from __future__ import annotations

import json
import os
import re
import stat
from html import escape
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from pantheon_http.browser_policy import policy_of
from pantheon_http.csp import PageHashes, web_app_csp

DEFAULT_WEB_DIR = Path(__file__).resolve().parent.parent / "web" / "out"
# Origins the build calls besides the API (Sentry's, for a build with a DSN), written by
# web/scripts/connect-origins.mjs; added to the pages' connect-src.
CONNECT_ORIGINS_FILE = Path("_pantheon") / "connect-origins.json"
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")
NOT_WEB_PREFIXES = ("/api/", "/healthz", "/readyz")
_IMMUTABLE = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"
# The "not built" page: its own inline style, nothing else.
_BUILD_ME_CSP = ("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
                 "base-uri 'none'; form-action 'none'")


class _ExportFiles(StaticFiles):
    """StaticFiles (``html=True``) plus ``x`` → ``x.html``, our cache headers, and each
    page's Content-Security-Policy (with the hashes of its inline scripts)."""

    def __init__(self, *, directory: Path) -> None:
        super().__init__(directory=directory, html=True, check_dir=False)
        self._hashes = PageHashes()
        self._build_origins: tuple[float, tuple[str, ...]] | None = None

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 404 and "." not in os.path.basename(path):
            full_path, found = await anyio.to_thread.run_sync(self.lookup_path, f"{path}.html")
            if found is not None and stat.S_ISREG(found.st_mode):
                response = self.file_response(full_path, found, scope)
        cache = _IMMUTABLE if scope["path"].startswith("/_next/static/") else _REVALIDATE
        if response.status_code < 400:
            response.headers.setdefault("Cache-Control", cache)
        elif isinstance(response, FileResponse):  # the export's 404.html
            self._with_policy(response, response.path, None, scope)
        return response

    def file_response(self, full_path: PathLike, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        """A page's answer — its file, or ``304 Not Modified`` — carries the page's policy.
        (A 304's headers replace the cached copy's, so it must carry the same policy.)
        A page is read for its hashes once per build: small files, then the cache."""
        response = super().file_response(full_path, stat_result, scope, status_code)
        return self._with_policy(response, full_path, stat_result, scope)

    def _with_policy(self, response: Response, full_path: PathLike,
                     stat_result: os.stat_result | None, scope: Scope) -> Response:
        if str(full_path).endswith(".html"):
            hashes = self._hashes.of(Path(full_path), stat_result)
            policy = policy_of(scope)
            api = [policy.public_origin] if policy is not None else []
            response.headers["Content-Security-Policy"] = web_app_csp(
                hashes, api_origins=[*api, *self._connect_origins()])
        return response

    def _connect_origins(self) -> tuple[str, ...]:
        """The build's own extra origins, re-read when the file changes; entries that are
        not plain http(s) origins are ignored (they would widen the policy)."""
        path = Path(str(self.directory)) / CONNECT_ORIGINS_FILE
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return ()
        if self._build_origins is None or self._build_origins[0] != mtime:
            try:
                listed = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                listed = []
            origins = tuple(o for o in (listed if isinstance(listed, list) else [])
                            if isinstance(o, str) and _ORIGIN.fullmatch(o))
            self._build_origins = (mtime, origins)
        return self._build_origins[1]


class WebApp:
    """The ASGI app serving the export in ``directory``; ``not_found`` answers the rest."""

    def __init__(self, directory: Path, *, not_found: ASGIApp) -> None:
        self.directory = directory
        self.not_found = not_found
        self._files = _ExportFiles(directory=directory)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(NOT_WEB_PREFIXES):
            await self.not_found(scope, receive, send)
        elif not (self.directory / "index.html").is_file():
            if scope["path"] != "/" and not _wants_html(scope):
                await self.not_found(scope, receive, send)
            else:
                await _build_me(self.directory, scope["method"])(scope, receive, send)
        else:
            await self._serve(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(status_code=405, headers={"Allow": "GET, HEAD"})
        response = await self._files.get_response(self._files.get_path(scope), scope)
        if response.status_code == 404 and not _wants_html(scope):
            await self.not_found(scope, receive, send)
        else:
            await response(scope, receive, send)


def _wants_html(scope: Scope) -> bool:
    return "text/html" in Headers(scope=scope).get("accept", "")


def install_web(app: Starlette, directory: Path | None = None) -> None:
    """Serve the web export for every request the app's routes do not match."""
    app.router.default = WebApp(directory or DEFAULT_WEB_DIR, not_found=app.router.not_found)


def _build_me(directory: Path, method: str) -> Response:
    if method not in ("GET", "HEAD"):
        raise HTTPException(status_code=405, headers={"Allow": "GET, HEAD"})
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Pantheon — web app not built</title><style>"
        "body{margin:0;min-height:100vh;display:grid;place-items:center;background:#f6f7f9;"
        "font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f24}"
        "main{max-width:34rem;padding:2rem;background:#fff;border-radius:12px;"
        "box-shadow:0 1px 3px rgba(0,0,0,.12)}code{background:#eef0f3;padding:.1rem .3rem;"
        "border-radius:4px}a{color:#1d4ed8}</style></head><body><main>"
        "<h1>The Pantheon web app is not built yet</h1>"
        "<p>The API is up: see <a href=\"/api/docs\">/api/docs</a>.</p>"
        "<p>Build the web app with <code>make web-build</code> (Node 20+), or run "
        "<code>make serve</code>, which builds it first. It is looked for in "
        f"<code>{escape(str(directory))}</code>.</p></main></body></html>"
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store",
                                       "Content-Security-Policy": _BUILD_ME_CSP})
