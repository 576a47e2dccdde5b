"""The process definitions (Procfile, Railway) and the web app's Vercel configuration say
what docs/deployment.md says, and name commands the CLI has."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from pantheon_adapters.settings import Settings
from tests.cli_invocations import invocations_in_line, problems

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
CHECK_SCRIPT = WEB / "scripts" / "check-api-url.mjs"
CSP_SCRIPT = WEB / "scripts" / "csp-meta.mjs"


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
    entries = [line.split(":", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {name.strip(): command.strip() for name, command in entries}


def railway(name: str) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((ROOT / name).read_text(encoding="utf-8"))
    return config


def vercel() -> dict[str, Any]:
    config: dict[str, Any] = json.loads((WEB / "vercel.json").read_text(encoding="utf-8"))
    return config


def the_one_invocation(command: str) -> list[str]:
    [invocation] = invocations_in_line(command, "config")
    assert problems(invocation) == [], f"{command!r}: {problems(invocation)}"
    return list(invocation.args)


def test_procfile_has_web_worker_and_release() -> None:
    processes = procfile()
    assert set(processes) == {"web", "worker", "release"}
    assert the_one_invocation(processes["web"])[:1] == ["serve"]
    assert the_one_invocation(processes["worker"]) == ["worker"]
    assert the_one_invocation(processes["release"]) == ["db", "upgrade"]


@pytest.mark.parametrize("command", [
    procfile()["web"], railway("railway.json")["deploy"]["startCommand"]])
def test_the_web_process_serves_production_on_every_interface_at_port(command: str) -> None:
    args = the_one_invocation(command)
    assert args == ["serve", "--host", "0.0.0.0"]  # the port: $PORT, read by Settings
    assert command.startswith("PANTHEON_ENV=production exec ")  # the server gets SIGTERM


@pytest.mark.parametrize("command", [
    procfile()["worker"], railway("railway.worker.json")["deploy"]["startCommand"]])
def test_the_worker_process_runs_production(command: str) -> None:
    assert the_one_invocation(command) == ["worker"]
    assert command.startswith("PANTHEON_ENV=production exec ")


def test_railway_api_migrates_before_starting_and_checks_readiness() -> None:
    deploy = railway("railway.json")["deploy"]
    assert [the_one_invocation(c) for c in deploy["preDeployCommand"]] == [["db", "upgrade"]]
    assert deploy["healthcheckPath"] == "/readyz"
    assert deploy["restartPolicyType"] == "ON_FAILURE"


def test_railway_worker_never_migrates() -> None:
    # Two concurrent upgrades would race; the API's release step is the only one.
    assert "preDeployCommand" not in railway("railway.worker.json")["deploy"]
    assert "healthcheckPath" not in railway("railway.worker.json")["deploy"]


def test_both_railway_services_build_the_same_way_and_redeploy_on_the_same_changes() -> None:
    api, worker = railway("railway.json")["build"], railway("railway.worker.json")["build"]
    assert api == worker
    assert api["builder"] == "RAILPACK"  # start commands run in a shell: `exec`, assignments
    assert {"pantheon_*/**", "migrations/**", "pyproject.toml"} <= set(api["watchPatterns"])


def test_port_comes_from_pantheon_port_then_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PANTHEON_PORT", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    assert Settings().port == 8000
    monkeypatch.setenv("PORT", "9321")
    assert Settings().port == 9321
    monkeypatch.setenv("PANTHEON_PORT", "9400")
    assert Settings().port == 9400
    assert Settings(port=9500).port == 9500


def test_vercel_serves_the_static_export() -> None:
    config = vercel()
    assert config["framework"] is None and config["outputDirectory"] == "out"
    assert config["buildCommand"] == ("node scripts/check-api-url.mjs && npm run build && "
                                      "node scripts/csp-meta.mjs out")
    assert config["installCommand"].startswith("npm ci")
    assert config["trailingSlash"] is True  # as next.config.ts: room/index.html
    assert CHECK_SCRIPT.is_file() and CSP_SCRIPT.is_file()


def _headers(source: str) -> dict[str, str]:
    [rule] = [rule for rule in vercel()["headers"] if rule["source"] == source]
    return {header["key"]: header["value"] for header in rule["headers"]}


def _directives(policy: str) -> dict[str, list[str]]:
    parts = [part.split() for part in policy.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


def test_vercel_sends_security_headers_on_every_page() -> None:
    headers = _headers("/(.*)")
    csp = {name: " ".join(values)
           for name, values in _directives(headers["Content-Security-Policy"]).items()}
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert "https:" in csp["connect-src"].split()  # the API's origin differs per environment
    assert "http:" not in csp["connect-src"].split()
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_vercel_caches_hashed_assets_only() -> None:
    assert _headers("/_next/static/(.*)")["Cache-Control"] == "public, max-age=31536000, immutable"
    assert _headers("/((?!_next/static/).*)")["Cache-Control"] == "no-cache"


def node_script(script: Path, *args: str, api_url: str | None,
                **extra_env: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (the web build needs it anyway)")
    env = {"PATH": "/usr/bin:/bin", **extra_env}
    if api_url is not None:
        env["NEXT_PUBLIC_PANTHEON_API_URL"] = api_url
    return subprocess.run([node, str(script), *args], env=env, capture_output=True,
                          text=True, timeout=30, check=False)


@pytest.mark.parametrize(("value", "ok"), [
    (None, False),
    ("", False),
    ("api.example.com", False),
    ("http://api.example.com", False),
    ("https://api.example.com/api", False),
    ("https://api.example.com?x=1", False),
    ("https://user:pw@api.example.com", False),
    ("https://api.example.com", True),
    ("https://api.example.com/", True),
    ("http://127.0.0.1:8000", True),
])
def test_the_build_refuses_an_unusable_api_url(value: str | None, ok: bool) -> None:
    result = node_script(CHECK_SCRIPT, api_url=value)
    assert (result.returncode == 0) is ok, result.stderr
    if not ok:
        assert "error[invalid_api_url]" in result.stderr


class _InlineScripts(HTMLParser):
    """An independent reading of a page's inline scripts (what the browser hashes)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and all(name != "src" for name, _ in attrs):
            self._current = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.scripts.append("".join(self._current))
            self._current = None


def browser_hashes(html: str) -> list[str]:
    parser = _InlineScripts()
    parser.feed(html.replace("\r\n", "\n"))
    return sorted({"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()
                   + "'" for s in parser.scripts})


PAGE = ('<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/>'
        '<script src="/_next/static/chunks/a.js" async=""></script></head><body>'
        '<script id="_R_">self.__next_f=[];\r\nself.__next_f.push([1,"é"])</script>'
        '<script>self.__next_f.push([2, "</div>"])</script>'
        '<script type="application/json">{"a": 1}</script></body></html>')


def test_each_exported_page_gets_a_policy_with_its_own_script_hashes(tmp_path: Path) -> None:
    (tmp_path / "room").mkdir()
    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8", newline="")
    (tmp_path / "room" / "index.html").write_text(PAGE.replace("é", "ü"), encoding="utf-8",
                                                  newline="")
    for _ in range(2):  # a second run replaces the policy, never adds one
        result = node_script(CSP_SCRIPT, str(tmp_path), api_url="https://api.example.com")
        assert result.returncode == 0, result.stderr
    policies: list[str] = []
    for page in (tmp_path / "index.html", tmp_path / "room" / "index.html"):
        html = page.read_text(encoding="utf-8")
        metas = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"/>', html)
        assert len(metas) == 1 and html.index("<head>") + len("<head>") == html.index("<meta ")
        policy = _directives(metas[0])
        original = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
        assert policy["script-src"] == ["'self'", *browser_hashes(original)]
        assert len(policy["script-src"]) == 4  # three inline scripts, none with src
        assert policy["connect-src"] == ["'self'", "https://api.example.com"]
        assert "'unsafe-inline'" not in policy["script-src"]
        policies.append(metas[0])
    assert policies[0] != policies[1]  # each page lists its own scripts


def test_browser_error_reports_may_reach_sentry(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8")
    dsn = "https://public@o123.ingest.sentry.io/456"
    result = node_script(CSP_SCRIPT, str(tmp_path), api_url="https://api.example.com",
                         NEXT_PUBLIC_SENTRY_DSN=dsn)
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    [policy] = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"/>', html)
    assert _directives(policy)["connect-src"] == [
        "'self'", "https://api.example.com", "https://o123.ingest.sentry.io"]
    bad = node_script(CSP_SCRIPT, str(tmp_path), api_url="https://api.example.com",
                      NEXT_PUBLIC_SENTRY_DSN="not a dsn")
    assert bad.returncode == 1 and "error[invalid_sentry_dsn]" in bad.stderr


def test_the_policy_step_needs_pages_and_an_api_url(tmp_path: Path) -> None:
    empty = node_script(CSP_SCRIPT, str(tmp_path), api_url="https://api.example.com")
    assert empty.returncode == 1 and "error[no_pages]" in empty.stderr
    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8")
    unset = node_script(CSP_SCRIPT, str(tmp_path), api_url=None)
    assert unset.returncode == 1 and "error[invalid_api_url]" in unset.stderr
    assert "Content-Security-Policy" not in (tmp_path / "index.html").read_text(encoding="utf-8")
