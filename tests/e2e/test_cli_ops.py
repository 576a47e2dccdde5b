"""The ``pantheon`` CLI end to end: sign-in links, API tokens, admin roles, migrations,
and the installed console script starting the server and the worker."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.test_cli import ANN, BOB, Driver, isolated_driver


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Driver:
    return isolated_driver(tmp_path, monkeypatch)


# --- auth: sign-in links and API tokens --------------------------------------------------


def test_auth_link_new_prints_a_fresh_link(cli: Driver) -> None:
    first = cli.ok("auth", "link", "Ann@Example.com", "--new", user=None).stdout
    assert "/api/v1/auth/verify?token=" in first
    again = cli.json("auth", "link", ANN, user=None)
    assert again["email"] == ANN
    assert again["link"] in first
    fresh = cli.json("auth", "link", ANN, "--new", user=None)
    assert fresh["link"] != again["link"]


def test_auth_link_without_one_suggests_new(cli: Driver) -> None:
    result = cli.error("auth", "link", "nobody@example.com", user=None)
    assert result.stderr.startswith("error[login_link_not_found]")
    assert "--new" in result.stderr
    bad = cli.error("auth", "link", "not-an-email", user=None)
    assert bad.stderr.startswith("error[invalid_email]")


def test_api_token_create_list_revoke(cli: Driver) -> None:
    created = cli.ok("auth", "token", "create", "--name", "laptop").stdout
    assert "shown only once" in created
    issued = cli.json("auth", "token", "create", "--name", "ci", "--expires-in-days", "30")
    secret, token = issued["secret"], issued["token"]
    assert secret.startswith("pan_")
    assert token["status"] == "active" and token["expires_at"] is not None

    listed = cli.json("auth", "token", "list")
    assert {t["name"] for t in listed} == {"laptop", "ci"}
    table = cli.ok("auth", "token", "list").stdout
    assert secret not in table and secret not in json.dumps(listed)
    assert token["hint"] in table

    revoked = cli.json("auth", "token", "revoke", token["id"])
    assert revoked["status"] == "revoked"
    statuses = {t["name"]: t["status"] for t in cli.json("auth", "token", "list")}
    assert statuses == {"laptop": "active", "ci": "revoked"}
    assert cli.error("auth", "token", "revoke", token["id"], user=BOB).stderr.startswith(
        "error[token_not_found]")
    assert cli.error("auth", "token", "create", "--name", "x", "--expires-in-days", "0"
                     ).stderr.startswith("error[invalid_token_lifetime]")


# --- admin roles ------------------------------------------------------------------------


def test_admin_grant_list_revoke_as_operator(cli: Driver) -> None:
    granted = cli.ok("admin", "grant", ANN, "--role", "owner", user=None)
    assert "Granted owner" in granted.stdout
    cli.ok("admin", "grant", BOB, "--role", "analyst", user=None)
    admins = {a["email"]: a["roles"] for a in cli.json("admin", "list", user=None)}
    assert admins == {ANN: ["owner"], BOB: ["analyst"]}
    assert BOB in cli.ok("admin", "list", user=None).stdout

    profile = cli.json("admin", "revoke", BOB, "--role", "analyst", user=None)
    assert profile["roles"] == []
    assert [a["email"] for a in cli.json("admin", "list", user=None)] == [ANN]


def test_only_owners_may_grant_with_as(cli: Driver) -> None:
    cli.ok("admin", "grant", BOB, "--role", "analyst", user=None)
    denied = cli.error("admin", "grant", BOB, "--role", "owner", user=BOB)
    assert denied.stderr.startswith("error[owner_required]")
    assert [a["roles"] for a in cli.json("admin", "list", user=BOB)] == [["analyst"]]

    cli.ok("admin", "grant", ANN, "--role", "owner", user=None)
    cli.ok("admin", "grant", "cy@example.com", "--role", "analyst", user=ANN)
    stranger = cli.error("admin", "list", user="dee@example.com")
    assert stranger.stderr.startswith("error[admin_required]")
    unknown_role = cli.error("admin", "grant", BOB, "--role", "god", user=None)
    assert unknown_role.stderr.startswith("error[invalid_role]")


# --- database and process commands -------------------------------------------------------


def test_db_current_upgrade_downgrade(cli: Driver) -> None:
    before = cli.json("db", "current", user=None)
    assert before["current"] is None and before["head"]
    assert not before["up_to_date"] and before["state"] == "empty"
    assert "empty: run pantheon db upgrade" in cli.ok("db", "current", user=None).stdout

    after = cli.json("db", "upgrade", user=None)
    assert after["current"] == after["head"] and after["up_to_date"]
    assert "up to date" in cli.ok("db", "current", user=None).stdout

    down = cli.json("db", "downgrade", "base", user=None)
    assert down["current"] is None
    cli.ok("db", "upgrade", user=None)
    bad = cli.error("db", "upgrade", "nonsense", user=None)
    assert bad.stderr.startswith("error[database_error]")


def test_data_dir_option_overrides_the_environment(cli: Driver, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    cli.ok("--data-dir", str(elsewhere), "rooms", "create", "Far")
    assert (elsewhere / "pantheon.db").exists()
    assert cli.json("rooms", "list") == []
    assert [r["name"] for r in cli.json("--data-dir", str(elsewhere), "rooms", "list")] == ["Far"]


def test_a_bad_setting_is_a_usage_error(cli: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTHEON_PORT", "eighty")
    result = cli.error("rooms", "list", exit_code=2)
    assert result.stderr.startswith("error[invalid_settings]: Invalid settings: PANTHEON_PORT")


def test_several_worker_processes_need_redis(cli: Driver) -> None:
    result = cli.error("worker", "--processes", "2", user=None, exit_code=2)
    assert result.stderr.startswith("error[redis_required]")


def test_unreachable_database_is_one_line(cli: Driver) -> None:
    url = "postgresql://someone:secret@127.0.0.1:1/pantheon"
    for args in (("--database-url", url, "rooms", "list"), ("--database-url", url, "db",
                                                             "current")):
        result = cli.error(*args)
        assert result.stderr.startswith("error[database_error]: ")
        assert len(result.stderr.strip().splitlines()) == 1
        assert "secret" not in result.stderr


def script_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANTHEON_")}
    env["PANTHEON_DATA_DIR"] = str(data_dir)
    return env


SCRIPT = Path(sys.executable).with_name("pantheon")


def test_console_script_smoke(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(SCRIPT), *args], env=script_env(tmp_path),
                              capture_output=True, text=True, timeout=120, check=False)

    assert run("--version").stdout.startswith("pantheon ")
    created = run("--as", ANN, "rooms", "create", "Smoke", "--mode", "manual", "--json")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["current_mode"] == "manual"
    missing = run("rooms", "list")
    assert missing.returncode == 2
    assert "pass --as EMAIL or set PANTHEON_USER" in missing.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[str], timeout_s: float = 60) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited early"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return int(response.status)
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer within {timeout_s}s")


def test_serve_migrates_the_embedded_database_and_serves(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "served"
    server = subprocess.Popen(
        [str(SCRIPT), "--data-dir", str(data_dir), "serve", "--port", str(port)],
        env=script_env(tmp_path / "unused"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    try:
        assert wait_for(f"http://127.0.0.1:{port}/readyz", server) == 200
        assert (data_dir / "pantheon.db").exists()
        assert not (tmp_path / "unused").exists()  # the server got --data-dir too
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}" in output


def test_worker_starts_and_stops_on_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    with log.open("w") as sink:
        worker = subprocess.Popen([str(SCRIPT), "worker", "--threads", "1"],
                                  env=script_env(tmp_path), stdout=sink, stderr=sink)
        try:
            deadline = time.monotonic() + 60
            while "Worker started" not in log.read_text() and time.monotonic() < deadline:
                assert worker.poll() is None, log.read_text()
                time.sleep(0.05)
            assert "Worker started" in log.read_text()
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    assert worker.returncode == 0, log.read_text()
    assert "Pantheon worker" in log.read_text()


def test_db_current_says_a_database_a_newer_release_migrated_is_ahead(cli: Driver,
                                                                       tmp_path: Path) -> None:
    """After a code rollback the database may be at a revision this code does not know:
    "behind: run pantheon db upgrade" would be wrong (that upgrade fails)."""
    import sqlite3

    cli.ok("db", "upgrade", user=None)
    with sqlite3.connect(tmp_path / "data" / "pantheon.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    status = cli.json("db", "current", user=None)
    assert status["current"] == "0099_from_the_future" and status["state"] == "ahead"
    assert not status["up_to_date"]
    assert "ahead of this code" in cli.ok("db", "current", user=None).stdout
