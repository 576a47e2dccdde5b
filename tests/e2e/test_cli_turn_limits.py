"""Graceful degradation through the CLI: the turn limits and the LLM circuit breaker are the
core's and the composition root's, so ``pantheon chat`` meets them exactly as HTTP does.

In-process (``CliRunner``) on embedded SQLite; each command builds its own container, so a
limit that must hold across commands is kept in Redis, as it is across API instances.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import Driver, isolated_driver
from tests.e2e.test_cli_chat import make_room
from tests.integration.fake_openrouter import FakeOpenRouter, serving


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Driver:
    driver = isolated_driver(tmp_path, monkeypatch)
    monkeypatch.setenv("PANTHEON_OFFLINE_WORD_DELAY_MS", "0")
    return driver


def test_a_drained_server_refuses_the_send_with_server_busy(
        cli: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    make_room(cli, "roundtable")
    monkeypatch.setenv("PANTHEON_TURNS_RUNNING_MAX", "0")
    monkeypatch.setenv("PANTHEON_TURNS_RETRY_AFTER_S", "9")

    shown = cli.error("chat", "Launch", "What should we do first?")

    assert "error[server_busy]: Pantheon is not starting new turns right now. Try again in " \
        "9 s." in shown.stderr
    assert "limit: 0 · running: 0" in shown.stderr  # (the wait is in the message)
    as_json = cli.error("chat", "Launch", "What should we do first?", "--json")
    assert json.loads(as_json.stdout)["error"] == {
        "code": "server_busy", "message": "Pantheon is not starting new turns right now. "
        "Try again in 9 s.", "details": {"limit": 0, "running": 0, "retry_after_s": 9}}
    monkeypatch.delenv("PANTHEON_TURNS_RUNNING_MAX")
    assert cli.json("rooms", "timeline", "Launch")["entries"] == []  # nothing was started


@pytest.mark.redis
def test_the_send_rate_holds_across_commands_through_redis(
        redis_keyspace: tuple[str, str], cli: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    url, prefix = redis_keyspace  # taken before ``cli`` clears the PANTHEON_* variables
    monkeypatch.setenv("PANTHEON_REDIS_URL", url)
    monkeypatch.setenv("PANTHEON_JOBS_NAMESPACE", prefix.rstrip(":"))
    make_room(cli, "roundtable", agents=("Ada",))
    monkeypatch.setenv("PANTHEON_SENDS_PER_MINUTE", "1")
    cli.ok("chat", "Launch", "First question")

    refused = cli.error("chat", "Launch", "Second question", "--json")

    error = json.loads(refused.stdout)["error"]
    assert error["code"] == "rate_limited"
    assert error["details"]["limit"] == 1 and error["details"]["window_s"] == 60
    assert 1 <= error["details"]["retry_after_s"] <= 60
    assert len(cli.json("rooms", "timeline", "Launch")["entries"]) == 1


def test_a_provider_outage_fails_the_turn_fast_with_the_reason(
        cli: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(FakeOpenRouter()) as provider:  # nothing scripted: every call is HTTP 500
        for name, value in {"OPENROUTER_API_KEY": "sk-test",
                            "OPENROUTER_BASE_URL": provider.base_url,
                            "LLM_MAX_ATTEMPTS": "2", "LLM_BREAKER_FAILURES": "2"}.items():
            monkeypatch.setenv(f"PANTHEON_{name}", value)
        make_room(cli, "roundtable", agents=("Ada", "Bob"))

        shown = cli("chat", "Launch", "Anyone there?", "--json")

    events = [json.loads(line) for line in shown.stdout.splitlines()]
    assert shown.exit_code == 1, shown.output
    steps = [e["data"]["error"]["code"] for e in events if e["type"] == "step_completed"]
    assert steps == ["provider_error", "provider_unavailable"]  # Bob's step never went out
    end = events[-1]
    assert end["type"] == "turn_failed"
    assert end["data"]["error"]["code"] == "provider_error"
    assert "circuit open" in end["data"]["error"]["message"]
    assert len(provider.requests) == 2  # Ada's two attempts; then the circuit was open
