"""NFR-SEC-001..005 over HTTP (docs/security.md): the session cookie, CSRF refusals, CORS,
the security headers (with the web app's and the docs' Content-Security-Policy), HTTPS-only
production settings and trusted proxies."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from pantheon_adapters.bootstrap import Settings, billing_policy
from pantheon_http.app import create_app
from pantheon_http.csp import inline_script_hashes
from tests.e2e.conftest import (
    BASE_URL,
    Json,
    assert_error,
    make_api,
    make_settings,
    served,
    sign_in,
)
from tests.e2e.test_cli import Driver, isolated_driver
from tests.fakes import FakeApp

SECRET = "s" * 32
API = "https://api.example.com"
WEB = "https://app.example.com"
EVIL = "https://evil.example"
ROOMS = "/api/v1/rooms"


def production(tmp_path: Path, **overrides: Any) -> Settings:
    return make_settings(tmp_path, env="production", public_url=API, secret_key=SECRET,
                         **overrides)


@asynccontextmanager
async def browser(app: FastAPI, base_url: str = BASE_URL) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url=base_url) as client:
        yield client


async def _rooms(client: httpx.AsyncClient) -> list[str]:
    response = await client.get(ROOMS)
    assert response.status_code == 200, response.text
    return [room["name"] for room in response.json()["rooms"]]


# --- the session cookie --------------------------------------------------------------------


async def test_production_cookie_is_host_prefixed_secure_httponly_lax(
        fake: FakeApp, tmp_path: Path) -> None:
    async with browser(make_api(fake, production(tmp_path)), API) as client:
        verified = await _verify(client, fake, "ada@example.com")
        cookie = verified.headers["set-cookie"]
        assert cookie.startswith("__Host-pantheon_session=pss_")
        for attribute in ("HttpOnly", "Secure", "Path=/", "SameSite=lax"):
            assert attribute in cookie, cookie
        assert "Domain" not in cookie  # host-only, as the prefix demands
        assert (await client.get("/api/v1/me")).status_code == 200
        session = client.cookies["__Host-pantheon_session"]
        client.cookies.clear()
        # Only the prefixed name counts: a plain-named cookie (which a sibling subdomain
        # could plant) is not a session here.
        plain = await client.get("/api/v1/me", headers={"Cookie": f"pantheon_session={session}"})
        assert_error(plain, 401, "not_authenticated")
        client.cookies.set("__Host-pantheon_session", session)
        out = await client.post("/api/v1/auth/logout")
        assert out.status_code == 204
        assert out.headers["set-cookie"].startswith('__Host-pantheon_session=""')
        assert "Secure" in out.headers["set-cookie"]


async def test_samesite_none_for_a_cross_site_web_app(fake: FakeApp, tmp_path: Path) -> None:
    settings = production(tmp_path, cookie_samesite="none", cors_origins=[WEB])
    async with browser(make_api(fake, settings), API) as client:
        cookie = (await _verify(client, fake, "ada@example.com")).headers["set-cookie"]
        assert "SameSite=none" in cookie and "Secure" in cookie


async def test_host_prefix_can_be_turned_off(fake: FakeApp, tmp_path: Path) -> None:
    async with browser(make_api(fake, production(tmp_path, cookie_host_prefix=False)),
                       API) as client:
        cookie = (await _verify(client, fake, "ada@example.com")).headers["set-cookie"]
        assert cookie.startswith("pantheon_session=") and "Secure" in cookie


async def _verify(client: httpx.AsyncClient, fake: FakeApp, email: str) -> httpx.Response:
    sent = await client.post("/api/v1/auth/magic-link", json={"email": email})
    assert sent.status_code == 202, sent.text
    verified = await client.post("/api/v1/auth/verify",
                                 json={"token": fake.mailer.last_link_token()})
    assert verified.status_code == 200, verified.text
    return verified


# --- CSRF ----------------------------------------------------------------------------------

UNSAFE = [("POST", ROOMS, {"name": "Forged"}), ("PATCH", "/api/v1/rooms/{room}", {"name": "X"}),
          ("DELETE", "/api/v1/rooms/{room}", None),
          ("PUT", "/api/v1/admin/users/ada@example.com/cap", {"credits": "1"})]


@pytest.mark.parametrize(("method", "path", "body"), UNSAFE,
                         ids=[f"{m}-{p.rsplit('/', 1)[-1]}" for m, p, _ in UNSAFE])
@pytest.mark.parametrize("headers", [
    pytest.param({"Origin": EVIL}, id="foreign-origin"),
    pytest.param({"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}, id="cross-site"),
    pytest.param({"Origin": "null"}, id="null-origin"),
    pytest.param({"Sec-Fetch-Site": "cross-site"}, id="cross-site-without-origin"),
    pytest.param({"Sec-Fetch-Site": "same-site", "Origin": "https://other.testserver"},
                 id="same-site-sibling"),
    pytest.param({"Referer": f"{EVIL}/page"}, id="foreign-referer"),
])
async def test_cross_site_cookie_writes_are_403_and_change_nothing(
        alice: httpx.AsyncClient, method: str, path: str, body: Json | None,
        headers: dict[str, str]) -> None:
    room = (await alice.post(ROOMS, json={"name": "Mine"})).json()
    response = await alice.request(method, path.format(room=room["id"]), json=body,
                                   headers=headers)
    error = assert_error(response, 403, "csrf_failed")
    assert error["details"]["reason"] in ("untrusted_origin", "cross_site_without_origin",
                                          "untrusted_referer")
    assert await _rooms(alice) == ["Mine"]


@pytest.mark.parametrize("headers", [
    pytest.param({}, id="no-browser-headers"),  # curl, scripts, the test client
    pytest.param({"Sec-Fetch-Site": "same-origin", "Origin": BASE_URL}, id="same-origin"),
    pytest.param({"Sec-Fetch-Site": "same-origin", "Origin": "null"},
                 id="same-origin-no-referrer-page"),
    pytest.param({"Sec-Fetch-Site": "none"}, id="user-typed"),
    pytest.param({"Origin": BASE_URL}, id="own-origin"),
    pytest.param({"Origin": "HTTP://TestServer:80"}, id="own-origin-unnormalised"),
    pytest.param({"Referer": f"{BASE_URL}/rooms/"}, id="own-referer"),
])
async def test_same_origin_cookie_writes_pass(alice: httpx.AsyncClient,
                                              headers: dict[str, str]) -> None:
    created = await alice.post(ROOMS, json={"name": "Fine"}, headers=headers)
    assert created.status_code == 201, created.text


async def test_the_host_the_request_was_sent_to_counts_as_own_origin(
        fake: FakeApp, tmp_path: Path) -> None:
    """``pantheon serve`` reached as localhost while PANTHEON_PUBLIC_URL says 127.0.0.1."""
    settings = make_settings(tmp_path, public_url="http://127.0.0.1:8000")
    async with browser(make_api(fake, settings), "http://localhost:8000") as client:
        await sign_in(client, fake, "ada@example.com")
        ok = await client.post(ROOMS, json={"name": "Local"},
                               headers={"Origin": "http://localhost:8000"})
        assert ok.status_code == 201, ok.text
        wrong_scheme = await client.post(ROOMS, json={"name": "X"},
                                         headers={"Origin": "https://localhost:8000"})
        assert_error(wrong_scheme, 403, "csrf_failed")


async def test_a_forged_sign_in_is_refused_and_spends_nothing(
        client: httpx.AsyncClient, fake: FakeApp) -> None:
    """Login CSRF: another site cannot sign a visitor in to the attacker's account."""
    await client.post("/api/v1/auth/magic-link", json={"email": "mallory@example.com"})
    token = fake.mailer.last_link_token()
    forged = await client.post("/api/v1/auth/verify", data={"token": token},
                               headers={"Origin": EVIL, "Accept": "text/html"})
    assert_error(forged, 403, "csrf_failed")
    assert "pantheon_session" not in client.cookies
    genuine = await client.post("/api/v1/auth/verify", json={"token": token})
    assert genuine.status_code == 200  # the token was not spent by the refused post


async def test_bearer_tokens_webhooks_and_upload_links_are_exempt(
        alice: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    secret = (await alice.post("/api/v1/auth/tokens", json={"name": "ci"})).json()["secret"]
    with_token = await client.post(ROOMS, json={"name": "Scripted"},
                                   headers={"Origin": EVIL, "Authorization": f"Bearer {secret}"})
    assert with_token.status_code == 201, with_token.text
    webhook = await client.post("/api/v1/webhooks/stripe", content=b"{}",
                                headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"})
    assert webhook.json()["error"]["code"] == "payments_not_configured"
    upload = await client.put("/api/v1/uploads/not-a-signed-token", content=b"x",
                              headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"})
    assert upload.json()["error"]["code"] != "csrf_failed"


async def test_reads_are_not_refused(alice: httpx.AsyncClient) -> None:
    response = await alice.get(ROOMS, headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers  # but unreadable there


# --- CORS ----------------------------------------------------------------------------------


def _preflight(method: str = "POST", headers: str = "content-type",
               origin: str = WEB) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers}


async def test_without_cors_origins_the_api_is_same_origin_only(
        alice: httpx.AsyncClient) -> None:
    refused = await alice.options(ROOMS, headers=_preflight())
    error = assert_error(refused, 403, "cors_not_allowed")
    assert error["details"]["origin"] == WEB
    assert "access-control-allow-origin" not in refused.headers
    read = await alice.get(ROOMS, headers={"Origin": WEB})
    assert "access-control-allow-origin" not in read.headers
    assert "origin" not in read.headers.get("vary", "").lower()
    assert_error(await alice.post(ROOMS, json={"name": "X"}, headers={"Origin": WEB}),
                 403, "csrf_failed")


@pytest.fixture
async def cross_site(fake: FakeApp, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A browser on WEB calling the API on API (SameSite=None cookies), signed in."""
    settings = production(tmp_path, cookie_samesite="none", cors_origins=[WEB, "https://b.test"])
    async with browser(make_api(fake, settings), API) as client:
        client.headers.update({"Origin": WEB, "Sec-Fetch-Site": "cross-site"})
        await sign_in(client, fake, "ada@example.com")
        yield client


async def test_an_allowed_origin_gets_preflights_and_readable_answers(
        cross_site: httpx.AsyncClient) -> None:
    preflight = await cross_site.options(
        ROOMS, headers=_preflight("POST", "Content-Type, Last-Event-ID, Authorization"))
    assert preflight.status_code == 204 and not preflight.content
    assert preflight.headers["access-control-allow-origin"] == WEB
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "PATCH" in preflight.headers["access-control-allow-methods"]
    assert "last-event-id" in preflight.headers["access-control-allow-headers"]
    assert preflight.headers["access-control-max-age"] == "600"
    assert preflight.headers["x-request-id"]

    created = await cross_site.post(ROOMS, json={"name": "Remote"})
    assert created.status_code == 201, created.text
    assert created.headers["access-control-allow-origin"] == WEB
    assert created.headers["access-control-allow-credentials"] == "true"
    assert "X-Request-ID" in created.headers["access-control-expose-headers"]
    assert "Origin" in created.headers["vary"]
    missing = await cross_site.get("/api/v1/rooms/nope")  # errors are readable too
    assert missing.status_code >= 400
    assert missing.headers["access-control-allow-origin"] == WEB


@pytest.mark.parametrize(("preflight", "detail"), [
    pytest.param(_preflight(origin=EVIL), None, id="other-origin"),
    pytest.param(_preflight("TRACE"), "allowed_methods", id="method"),
    pytest.param(_preflight("POST", "content-type, x-evil"), "allowed_headers", id="header"),
])
async def test_other_preflights_are_refused(cross_site: httpx.AsyncClient,
                                            preflight: dict[str, str],
                                            detail: str | None) -> None:
    error = assert_error(await cross_site.options(ROOMS, headers=preflight), 403,
                         "cors_not_allowed")
    assert detail is None or detail in error["details"]


async def test_another_origin_gets_no_cors_headers_and_cannot_write(
        cross_site: httpx.AsyncClient) -> None:
    headers = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}
    read = await cross_site.get(ROOMS, headers=headers)
    assert "access-control-allow-origin" not in read.headers
    assert "Origin" in read.headers["vary"]  # the answer depends on the origin
    assert_error(await cross_site.post(ROOMS, json={"name": "X"}, headers=headers), 403,
                 "csrf_failed")


async def test_the_web_url_is_an_allowed_origin_and_the_sign_in_home(
        fake: FakeApp, tmp_path: Path) -> None:
    settings = production(tmp_path, web_url=f"{WEB}/")
    async with browser(make_api(fake, settings), API) as client:
        preflight = await client.options(ROOMS, headers=_preflight())
        assert preflight.headers["access-control-allow-origin"] == WEB
        await client.post("/api/v1/auth/magic-link", json={"email": "ada@example.com"})
        form = await client.post("/api/v1/auth/verify",
                                 data={"token": fake.mailer.last_link_token()},
                                 headers={"Origin": API, "Sec-Fetch-Site": "same-origin"})
        assert form.status_code == 303 and form.headers["location"] == f"{WEB}/"


# --- security headers ----------------------------------------------------------------------

BASELINE = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
            "referrer-policy": "same-origin", "cross-origin-opener-policy": "same-origin"}


def assert_baseline(response: httpx.Response) -> None:
    for name, value in BASELINE.items():
        assert response.headers.get(name) == value, (name, response.request.url)
    assert "camera=()" in response.headers["permissions-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_every_answer_has_the_security_headers(alice: httpx.AsyncClient,
                                                     client: httpx.AsyncClient) -> None:
    answers = [await alice.get(ROOMS), await client.get(ROOMS),  # 200, 401
               await alice.get("/api/v1/rooms/nope"), await alice.put(ROOMS),  # 404, 405
               await client.get("/healthz"), await client.get("/api/openapi.json"),
               await alice.post(ROOMS, json={"name": "X"}, headers={"Origin": EVIL})]  # 403
    for response in answers:
        assert_baseline(response)
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert "strict-transport-security" not in response.headers  # not production


async def test_an_unhandled_error_has_them_too(fake: FakeApp, tmp_path: Path) -> None:
    app = make_api(fake, production(tmp_path, cors_origins=[WEB]))

    async def boom() -> None:
        raise RuntimeError("bug")

    app.add_api_route("/api/v1/boom", boom)
    async with browser(app, API) as client:
        response = await client.get("/api/v1/boom", headers={"Origin": WEB})
    assert_error(response, 500, "internal_error")
    assert_baseline(response)
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert response.headers["access-control-allow-origin"] == WEB


@pytest.mark.parametrize(("overrides", "expected"), [
    pytest.param({}, "max-age=31536000", id="default"),
    pytest.param({"hsts_include_subdomains": True, "hsts_max_age_s": 600},
                 "max-age=600; includeSubDomains", id="subdomains"),
    pytest.param({"hsts_max_age_s": 0}, None, id="off"),
])
async def test_hsts_in_production(fake: FakeApp, tmp_path: Path, overrides: dict[str, Any],
                                  expected: str | None) -> None:
    async with browser(make_api(fake, production(tmp_path, **overrides)), API) as client:
        response = await client.get("/healthz")
    assert response.headers.get("strict-transport-security") == expected


INLINE_A = 'self.__boot=1;document.documentElement.dataset.x="<a>&amp;"'
INLINE_B = "\n  (self.__next_f=self.__next_f||[]).push([0])\n"


@pytest.fixture
def web_dir(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    (out / "_next" / "static").mkdir(parents=True)
    (out / "_next" / "static" / "app.js").write_text("console.log(1)")
    (out / "index.html").write_text(
        '<!doctype html><html><head><script src="/_next/static/app.js" async></script>'
        f'<script id="_R_">{INLINE_A}</script></head><body><p>Home</p>'
        f'<script>{INLINE_B}</script><script type="application/json">{{"a":1}}</script>'
        "</body></html>")
    (out / "404.html").write_text("<!doctype html><p>Not here</p><script>x()</script>")
    return out


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def directives(csp: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}


async def test_web_pages_have_a_csp_with_their_inline_script_hashes(
        fake: FakeApp, tmp_path: Path, web_dir: Path) -> None:
    app = create_app(container=fake.container(make_settings(tmp_path)), web_dir=web_dir)
    async with browser(app) as client:
        home = await client.get("/", headers={"Accept": "text/html"})
        # A revalidation's 304 replaces the cached copy's headers: it carries the page's
        # policy too, not the API's.
        unchanged = await client.get("/", headers={"If-None-Match": home.headers["etag"]})
        missing = await client.get("/nowhere/", headers={"Accept": "text/html"})
        asset = await client.get("/_next/static/app.js")
    assert unchanged.status_code == 304
    assert unchanged.headers["content-security-policy"] == home.headers["content-security-policy"]
    csp = directives(home.headers["content-security-policy"])
    assert sorted(csp["script-src"]) == sorted(["'self'", sha256_source(INLINE_A),
                                                sha256_source(INLINE_B),
                                                sha256_source('{"a":1}')])
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp["connect-src"] == ["'self'", BASE_URL]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert csp["default-src"] == ["'self'"] and csp["base-uri"] == ["'none'"]
    # no external host anywhere
    assert not [s for v in csp.values() for s in v if s.startswith("http") and s != BASE_URL]
    assert_baseline(home)
    assert missing.status_code == 404
    assert sha256_source("x()") in missing.headers["content-security-policy"]
    assert asset.headers["content-security-policy"].startswith("default-src 'none'")


async def test_a_build_with_browser_error_reports_may_call_its_sentry_origin(
        fake: FakeApp, tmp_path: Path, web_dir: Path) -> None:
    """web/scripts/connect-origins.mjs lists the build's Sentry origin; the pages' connect-src
    takes it (and nothing that is not a plain origin)."""
    listed = web_dir / "_pantheon" / "connect-origins.json"
    listed.parent.mkdir()
    listed.write_text('["https://o1.ingest.sentry.io", "https://x.test; script-src *", 7]')
    app = create_app(container=fake.container(make_settings(tmp_path)), web_dir=web_dir)
    async with browser(app) as client:
        home = await client.get("/", headers={"Accept": "text/html"})
        listed.write_text("[]")
        os.utime(listed, (1, 1))  # a rebuild without a DSN
        again = await client.get("/", headers={"Accept": "text/html"})
    assert directives(home.headers["content-security-policy"])["connect-src"] == [
        "'self'", BASE_URL, "https://o1.ingest.sentry.io"]
    assert directives(again.headers["content-security-policy"])["connect-src"] == [
        "'self'", BASE_URL]


async def test_a_rebuilt_page_gets_its_new_hashes(fake: FakeApp, tmp_path: Path,
                                                  web_dir: Path) -> None:
    app = create_app(container=fake.container(make_settings(tmp_path)), web_dir=web_dir)
    async with browser(app) as client:
        before = (await client.get("/")).headers["content-security-policy"]
        page = web_dir / "index.html"
        page.write_text(page.read_text().replace(INLINE_A, "self.rebuilt=2"))
        stat = page.stat()
        os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        after = (await client.get("/")).headers["content-security-policy"]
    assert sha256_source(INLINE_A) in before and sha256_source(INLINE_A) not in after
    assert sha256_source("self.rebuilt=2") in after


def test_inline_script_hashes_follow_what_browsers_hash() -> None:
    html = ("<script>a()</script><SCRIPT type=module>b()\r\n</SCRIPT>"
            "<script src=x.js></script><script>a()</script><script></script>")
    assert inline_script_hashes(html) == (sha256_source("a()"), sha256_source("b()\n"),
                                          sha256_source(""))


async def test_the_api_docs_have_their_own_csp(client: httpx.AsyncClient) -> None:
    docs = await client.get("/api/docs")
    assert docs.status_code == 200
    csp = directives(docs.headers["content-security-policy"])
    [inline] = [s for s in csp["script-src"] if s.startswith("'sha256-")]
    assert inline_script_hashes(docs.text) == (inline,)
    assert csp["connect-src"] == ["'self'"] and csp["default-src"] == ["'none'"]
    assert "validatorUrl" in docs.text and "validator.swagger.io" not in docs.text
    assert "http" not in docs.headers["content-security-policy"]


async def test_sign_in_pages_keep_their_stricter_policy(client: httpx.AsyncClient,
                                                        fake: FakeApp) -> None:
    await client.post("/api/v1/auth/magic-link", json={"email": "ada@example.com"})
    page = await client.get("/api/v1/auth/verify",
                            params={"token": fake.mailer.last_link_token()})
    assert page.headers["content-security-policy"].startswith("default-src 'none'; style-src")
    assert page.headers["referrer-policy"] == "strict-origin"
    assert page.headers["x-frame-options"] == "DENY"


# --- HTTPS-only production settings, trusted proxies ----------------------------------------


@pytest.mark.parametrize(("overrides", "message"), [
    pytest.param({"public_url": "http://api.example.com"}, "PANTHEON_PUBLIC_URL=http://",
                 id="http-public-url"),
    pytest.param({"public_url": API, "cors_origins": "http://app.example.com"},
                 "PANTHEON_CORS_ORIGINS=http://app.example.com", id="http-cors-origin"),
    pytest.param({"public_url": API, "web_url": "http://app.example.com"},
                 "PANTHEON_WEB_URL=http://", id="http-web-url"),
    pytest.param({"public_url": API, "cookie_secure": False},
                 "PANTHEON_COOKIE_SECURE=false is refused", id="insecure-cookie"),
])
def test_production_is_https_only(tmp_path: Path, overrides: dict[str, Any],
                                  message: str) -> None:
    with pytest.raises(ValidationError, match=message) as refused:
        Settings(data_dir=tmp_path, env="production", secret_key=SECRET, **overrides)
    assert "PANTHEON_ALLOW_INSECURE_HTTP=true" in str(refused.value)


def test_plain_http_in_production_only_when_explicitly_allowed(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, env="production", secret_key=SECRET,
                        public_url="http://10.0.0.5:8000", allow_insecure_http=True)
    assert not settings.secure_cookies and not settings.session_cookie_host_prefix
    assert settings.hsts_header is None
    secure = Settings(data_dir=tmp_path, env="production", secret_key=SECRET, public_url=API)
    assert secure.secure_cookies and secure.session_cookie_host_prefix
    assert secure.hsts_header == "max-age=31536000"


@pytest.mark.parametrize(("overrides", "message"), [
    pytest.param({"cookie_samesite": "none"}, "SAMESITE=none needs Secure", id="none-on-http"),
    pytest.param({"cookie_host_prefix": True}, "HOST_PREFIX=true needs Secure",
                 id="prefix-on-http"),
    pytest.param({"cors_origins": "*"}, "'\\*' must be an http:// or https:// URL",
                 id="wildcard"),
    pytest.param({"cors_origins": "https://app.example.com/path"}, "must be an origin",
                 id="origin-with-path"),
    pytest.param({"public_url": "api.example.com"}, "PANTHEON_PUBLIC_URL", id="no-scheme"),
    pytest.param({"web_url": "https://app.example.com/?x=1"}, "PANTHEON_WEB_URL",
                 id="web-url-query"),
])
def test_settings_browsers_would_refuse_are_clear_errors(tmp_path: Path,
                                                          overrides: dict[str, Any],
                                                          message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(data_dir=tmp_path, **overrides)


def test_cors_origins_from_the_environment(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTHEON_CORS_ORIGINS", "https://App.example.com:443, http://localhost:3000/")
    assert Settings(data_dir=tmp_path).cors_origins == ["https://app.example.com",
                                                        "http://localhost:3000"]
    monkeypatch.setenv("PANTHEON_CORS_ORIGINS", '["https://a.example.com"]')
    assert Settings(data_dir=tmp_path).cors_origins == ["https://a.example.com"]


def test_serve_refuses_insecure_production_settings(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    cli: Driver = isolated_driver(tmp_path, monkeypatch)
    monkeypatch.setenv("PANTHEON_ENV", "production")
    monkeypatch.setenv("PANTHEON_SECRET_KEY", SECRET)
    monkeypatch.setenv("PANTHEON_PUBLIC_URL", "http://api.example.com")
    result = cli.error("serve", user=None, exit_code=2)
    assert result.stderr.startswith("error[invalid_settings]: Invalid settings: "
                                    "PANTHEON_ENV=production needs HTTPS")
    assert "PANTHEON_PUBLIC_URL=http://api.example.com" in result.stderr


@pytest.mark.parametrize(("trusted", "scheme"), [
    pytest.param("127.0.0.1", "https", id="trusted-proxy"),
    pytest.param("10.9.9.9", "http", id="untrusted-peer"),
])
async def test_forwarded_proto_is_believed_only_from_trusted_proxies(
        fake: FakeApp, tmp_path: Path, trusted: str, scheme: str) -> None:
    """The setting ``pantheon serve`` hands uvicorn: https from X-Forwarded-Proto makes an
    https page's own origin match; from an untrusted peer the header is ignored."""
    settings = make_settings(tmp_path, public_url="https://pantheon.example.com",
                             cookie_secure=False, forwarded_allow_ips=trusted)
    app = make_api(fake, settings)
    async with served(app, proxy_headers=True,
                      forwarded_allow_ips=settings.forwarded_allow_ips) as url:
        port = url.rsplit(":", 1)[1]
        async with httpx.AsyncClient(base_url=url) as http:
            await sign_in(http, fake, "ada@example.com")
            response = await http.post(ROOMS, json={"name": "Proxied"}, headers={
                "X-Forwarded-Proto": "https", "Origin": f"https://127.0.0.1:{port}"})
    assert response.status_code == (201 if scheme == "https" else 403), response.text


async def test_the_security_middleware_lets_the_lifespan_through(api: FastAPI) -> None:
    """Startup and shutdown pass every middleware (none may read HTTP headers there)."""
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, str]:
        return next(incoming)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    await api({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_stripe_sends_users_back_to_the_web_app_by_default(tmp_path: Path) -> None:
    policy = billing_policy(Settings(data_dir=tmp_path, public_url=API, web_url=f"{WEB}/"))
    assert (policy.success_url, policy.cancel_url, policy.portal_return_url) == (
        f"{WEB}/billing?checkout=success", f"{WEB}/billing?checkout=cancelled", f"{WEB}/billing")
