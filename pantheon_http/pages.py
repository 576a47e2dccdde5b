"""The two small HTML pages of the magic-link flow, self-contained (no external assets).

Opening an e-mailed link only shows a confirmation page; the token is spent by the
button's POST. Mail scanners that prefetch links therefore cannot burn it.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from starlette.responses import HTMLResponse

_HEADERS = {
    "Cache-Control": "no-store",
    # The page's URL carries the token: send no more than the origin anywhere. (Not
    # no-referrer: that would also blank the Origin header the CSRF check reads.)
    "Referrer-Policy": "strict-origin",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}

_STYLE = """
body{margin:0;min-height:100vh;display:grid;place-items:center;background:#f6f7f9;
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24}
main{max-width:26rem;padding:2rem;background:#fff;border-radius:12px;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin:0 0 .75rem}
p{margin:0 0 1rem}
.hint{font-size:.875rem;color:#4b5563}
button,a.button{display:inline-block;font:inherit;font-weight:600;padding:.65rem 1.25rem;
border:0;border-radius:8px;background:#1d4ed8;color:#fff;cursor:pointer;text-decoration:none}
button:focus-visible,a.button:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
"""


def _page(title: str, body: str, status: int = 200, *,
          form_targets: tuple[str, ...] = ()) -> HTMLResponse:
    """``form_targets``: origins, besides this one, the page's form may lead to (CSP
    ``form-action`` also governs where the form's answer redirects)."""
    headers = dict(_HEADERS)
    if form_targets:
        headers["Content-Security-Policy"] = headers["Content-Security-Policy"].replace(
            "form-action 'self'", " ".join(["form-action 'self'", *form_targets]))
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body><main>{body}</main></body></html>")
    return HTMLResponse(html, status_code=status, headers=headers)


def confirm_sign_in(token: str, *, ttl_minutes: int, home: str = "/") -> HTMLResponse:
    """The page an e-mailed link opens: one button that POSTs the token as a form. The post
    is answered with a redirect to ``home`` (the web app), which may be another origin
    (PANTHEON_WEB_URL): the page's CSP lets the form lead there."""
    return _page("Sign in to Pantheon", (
        "<h1>Sign in to Pantheon</h1>"
        "<p>Press the button to finish signing in on this device.</p>"
        # Relative action: resolves to …/auth/verify without the token-bearing query string.
        '<form method="post" action="verify">'
        f'<input type="hidden" name="token" value="{escape(token, quote=True)}">'
        '<button type="submit">Sign in to Pantheon</button></form>'
        f'<p class="hint">The link works once, for {ttl_minutes} minutes after it was sent. '
        "If you did not ask to sign in, close this page.</p>"
    ), form_targets=_origin_of(home))


def _origin_of(url: str) -> tuple[str, ...]:
    """``(scheme://host[:port],)`` of an absolute URL; ``()`` for a path on this origin."""
    parts = urlsplit(url)
    return (f"{parts.scheme}://{parts.netloc}",) if parts.scheme and parts.netloc else ()


def sign_in_failed(message: str, code: str, status: int, *, home: str = "/") -> HTMLResponse:
    """A human answer for a browser whose sign-in form post was refused; ``home`` is the
    web app's address."""
    return _page("Sign-in failed", (
        "<h1>This sign-in link did not work</h1>"
        f"<p>{escape(message)}</p>"
        f'<p class="hint">Error code: <code>{escape(code)}</code></p>'
        f'<p><a class="button" href="{escape(home, quote=True)}">Back to Pantheon</a></p>'
    ), status)
