"""Content-Security-Policy values, and the hashes of an HTML page's inline scripts.

The web app (a Next.js static export) boots with inline ``<script>`` elements. Rather than
``'unsafe-inline'``, each served page's policy lists the SHA-256 of each of its own inline
scripts: an injected script (whose hash is not listed) does not run. The hashes are worked
out when a page is first served and kept until its file changes.

Styles keep ``'unsafe-inline'``: React renders ``style`` attributes into the HTML, and an
injected style cannot run code. No external host appears anywhere: everything the pages
load comes from this origin (``'self'``), ``data:`` images and icons, or ``blob:`` images.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

# For answers that are not pages (JSON, files): nothing may load, frame or be framed.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def web_app_csp(script_hashes: Iterable[str], *, api_origins: Iterable[str] = ()) -> str:
    """The web app's pages: scripts from this origin or listed by hash; fetch and SSE
    streams to this origin and the API's (``api_origins``)."""
    scripts = " ".join(["'self'", *sorted(set(script_hashes))])
    connect = " ".join(["'self'", *sorted(set(api_origins))])
    return "; ".join([
        "default-src 'self'", f"script-src {scripts}", "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:", "font-src 'self' data:", f"connect-src {connect}",
        "object-src 'none'", "base-uri 'none'", "form-action 'self'",
        "frame-ancestors 'none'", "frame-src 'none'", "worker-src 'self'",
        "manifest-src 'self'",
    ])


def docs_csp(script_hashes: Iterable[str]) -> str:
    """The Swagger UI page: its bundle, its one inline bootstrap script (by hash), calls to
    this origin only ("Try it out")."""
    scripts = " ".join(["'self'", *sorted(set(script_hashes))])
    return "; ".join([
        "default-src 'none'", f"script-src {scripts}", "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:", "font-src 'self' data:", "connect-src 'self'",
        "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
    ])


def inline_script_hashes(html: str) -> tuple[str, ...]:
    """``'sha256-…'`` of every inline ``<script>`` (one without ``src``), in page order, as
    browsers hash them: the text between the tags, line endings normalised to ``\\n``."""
    parser = _InlineScripts()
    parser.feed(html.replace("\r\n", "\n").replace("\r", "\n"))
    parser.close()
    return tuple(dict.fromkeys(_sha256_source(script) for script in parser.scripts))


def _sha256_source(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


class _InlineScripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)  # script text is raw: no entity decoding
        self.scripts: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and not any(name == "src" for name, _ in attrs):
            self._current = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.scripts.append("".join(self._current))
            self._current = None


class PageHashes:
    """The inline-script hashes of HTML files, each read once until the file changes
    (its size or modification time)."""

    def __init__(self) -> None:
        self._known: dict[Path, tuple[int, int, tuple[str, ...]]] = {}

    def of(self, path: Path, stat: os.stat_result | None = None) -> tuple[str, ...]:
        """The page's hashes; reads it (blocking) only when it is new or changed."""
        stat = stat or os.stat(path)
        known = self._known.get(path)
        if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
            return known[2]
        hashes = inline_script_hashes(path.read_text(encoding="utf-8", errors="replace"))
        self._known[path] = (stat.st_mtime_ns, stat.st_size, hashes)
        return hashes
