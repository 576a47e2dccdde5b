"""The web app on another origin than the API (Vercel + Railway, docs/deployment.md).

The e-mailed sign-in link opens the API's confirmation page, whose form post is answered with
a redirect to the web app. A browser applies the page's CSP ``form-action`` to that redirect
too, so the web app's origin must be listed there — found by driving the split set-up in
Chromium, where signing in otherwise stopped at the confirmation page.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import make_api, make_settings
from tests.fakes import FakeApp

API = "https://api.example.com"
WEB = "https://app.example.com"


def _form_action(response: httpx.Response) -> list[str]:
    policy = response.headers["content-security-policy"]
    [directive] = [part.split() for part in policy.split(";") if "form-action" in part]
    return directive[1:]


@pytest.mark.parametrize(("web_url", "allowed"), [
    (None, ["'self'"]),  # the API serves the web app: the redirect stays here
    (f"{WEB}/", ["'self'", WEB]),
    ("https://app.example.com:8443/pantheon/", ["'self'", "https://app.example.com:8443"]),
])
async def test_the_confirmation_page_may_lead_to_the_web_app(
        fake: FakeApp, tmp_path: Path, web_url: str | None, allowed: list[str]) -> None:
    settings = make_settings(tmp_path, public_url=API, web_url=web_url)
    transport = httpx.ASGITransport(app=make_api(fake, settings))
    async with httpx.AsyncClient(transport=transport, base_url=API) as browser:
        await browser.post("/api/v1/auth/magic-link", json={"email": "ada@example.com"})
        token = fake.mailer.last_link_token()
        page = await browser.get("/api/v1/auth/verify", params={"token": token})
        assert page.status_code == 200 and 'action="verify"' in page.text
        assert _form_action(page) == allowed
        form = await browser.post("/api/v1/auth/verify", data={"token": token},
                                  headers={"Origin": API, "Sec-Fetch-Site": "same-origin"})
        assert form.status_code == 303
        assert form.headers["location"] == (web_url or "/")
        assert form.headers["location"].startswith(tuple(allowed[1:]) or "/")
