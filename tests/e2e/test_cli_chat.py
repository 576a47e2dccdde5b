"""``pantheon chat`` and ``pantheon turns`` end to end: real use cases, the turn engine and
the offline model on embedded SQLite, driven in-process (``CliRunner``) and, for the
smoke test and Ctrl-C, through the installed console script.

The offline model streams without delay here (``PANTHEON_OFFLINE_WORD_DELAY_MS=0``) and
is deterministic, so what a person sees (panels, outcome line, exit code) and what a
script reads (NDJSON events) can both be asserted exactly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pantheon_cli.main import app
from pantheon_cli.streaming import EXIT_INTERRUPTED, TurnEnd
from tests.e2e.test_cli import ANN, BOB, Driver, isolated_driver
from tests.e2e.test_cli_ops import SCRIPT, free_port, script_env

Event = dict[str, Any]

ROLES = {
    "Ada": ("qwen", "Keeps the budget: numbers, costs and finance."),
    "Bob": ("llama", "Runs marketing: the launch campaign and its audience."),
    "Cy": ("deepseek", "Checks legal risks and contracts."),
}


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Driver:
    driver = isolated_driver(tmp_path, monkeypatch)
    monkeypatch.setenv("PANTHEON_OFFLINE_WORD_DELAY_MS", "0")
    return driver


def make_room(cli: Driver, mode: str, agents: Sequence[str] = ("Ada", "Bob"),
              name: str = "Launch") -> str:
    room_id: str = cli.json("rooms", "create", name, "--mode", mode)["id"]
    for agent in agents:
        model, role = ROLES[agent]
        cli.ok("agents", "add", name, agent, "--model", model, "--role", role)
    return room_id


def ndjson(stdout: str) -> list[Event]:
    """Every line of stdout is one JSON event (and nothing else is there)."""
    return [json.loads(line) for line in stdout.splitlines()]


def chat_events(cli: Driver, *args: str) -> list[Event]:
    return ndjson(cli.ok("chat", *args, "--json").stdout)


def of_type(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e["type"] == kind]


def position(text: str, *parts: str) -> list[int]:
    found = [text.find(part) for part in parts]
    assert -1 not in found, (parts, text)
    return found


# --- the three room modes, as a person sees them -----------------------------------------


def test_chat_roundtable_streams_one_panel_per_step_in_position_order(cli: Driver) -> None:
    make_room(cli, "roundtable")
    shown = cli.ok("chat", "Launch", "What should we do first?").stdout

    assert shown.startswith("roundtable turn ")
    assert "@Ada, @Bob" in shown.splitlines()[0]
    ada, bob, outcome = position(shown, "Ada (@Ada) · roundtable worker · qwen →",
                                 "Bob (@Bob) · roundtable worker · llama →", "✓ completed")
    assert ada < bob < outcome
    assert "[offline model] I am Ada." in shown and "[offline model] I am Bob." in shown
    assert shown.count("✓ ok · ") == 2 and shown.count(" credits") >= 3
    assert "✓ completed · 2 steps ok, 0 failed · " in shown


def test_chat_manual_runs_only_the_tagged_agents_in_tag_order(cli: Driver) -> None:
    make_room(cli, "manual", agents=("Ada", "Bob", "Cy"))
    shown = cli.ok("chat", "Launch", "@cy first, then @ADA please").stdout
    cy, ada = position(shown, "Cy (@Cy) · manual worker", "Ada (@Ada) · manual worker")
    assert cy < ada
    assert "(@Bob)" not in shown
    assert "✓ completed · 2 steps ok, 0 failed" in shown

    events = chat_events(cli, "Launch", "only @bob")
    assert [e["data"]["agent_name"] for e in of_type(events, "step_started")] == ["Bob"]
    assert {e["data"]["mode"] for e in of_type(events, "step_started")} == {"manual"}


def test_at_003_manual_send_without_a_valid_tag_exits_1_with_the_handles(cli: Driver) -> None:
    make_room(cli, "manual")
    result = cli.error("chat", "Launch", "hello @nobody, and mail me at a@b.c")
    assert result.stdout == ""
    assert result.stderr.startswith("error[no_valid_tags]: ")
    assert "@Ada, @Bob" in result.stderr

    as_json = cli.error("chat", "Launch", "hello everyone", "--json")
    assert len(as_json.stdout.splitlines()) == 1  # one NDJSON record, like the events
    error = json.loads(as_json.stdout)["error"]
    assert error["code"] == "no_valid_tags"
    assert error["details"]["valid_handles"] == ["@Ada", "@Bob"]
    # No turn was created: the room's timeline is still empty.
    assert cli.json("rooms", "timeline", "Launch")["entries"] == []


def test_at_005_chat_orchestrator_shows_plan_then_workers_then_synthesis(cli: Driver) -> None:
    make_room(cli, "orchestrator", agents=("Ada", "Bob", "Cy"))
    message = "Plan the launch budget and the marketing campaign"
    shown = cli.ok("chat", "Launch", message).stdout

    assert "the manager picks from @Ada, @Bob, @Cy" in " ".join(shown.split())
    plan, worker, synthesis = position(shown, "Manager · orchestrator plan · deepseek →",
                                       "Task from the manager:",
                                       "Manager · orchestrator synthesis · deepseek →")
    assert plan < worker < synthesis
    assert "Plan:" in shown  # the plan reads as text, not JSON
    assert '"steps"' not in shown

    events = chat_events(cli, "Launch", message)
    kinds = [e["data"]["kind"] for e in of_type(events, "step_started")]
    assert kinds[0] == "plan" and kinds[-1] == "synthesis"
    assert set(kinds[1:-1]) == {"worker"} and len(kinds) >= 3
    plan_done = of_type(events, "step_completed")[0]["data"]
    assert plan_done["content"].startswith("Plan:")
    assert plan_done["data"]["plan_fallback"] is None
    planned = [step["agent_id"] for step in plan_done["data"]["plan"]["steps"]]
    workers = [e["data"]["agent_id"] for e in of_type(events, "step_started")][1:-1]
    assert workers == planned
    assert events[-1]["data"]["steps"] == {"ok": len(kinds), "failed": 0}


# --- --json: the raw events ---------------------------------------------------------------


def test_chat_json_is_ndjson_with_gap_free_seq_ending_in_turn_completed(cli: Driver) -> None:
    make_room(cli, "roundtable")
    events = chat_events(cli, "Launch", "Hello there")

    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "turn_started" and events[-1]["type"] == "turn_completed"
    assert len({e["turn_id"] for e in events}) == 1
    assert events[0]["data"]["mode"] == "roundtable"
    assert [a["name"] for a in events[0]["data"]["roster"]] == ["Ada", "Bob"]
    for started in of_type(events, "step_started"):
        step = started["step_id"]
        streamed = "".join(e["data"]["text"] for e in events
                           if e["type"] == "step_delta" and e["step_id"] == step)
        done = next(e for e in of_type(events, "step_completed") if e["step_id"] == step)
        assert streamed and streamed == done["data"]["content"]
        assert done["data"]["status"] == "ok"
        assert float(done["data"]["credits"]) > 0
    assert events[-1]["data"]["status"] == "completed"


def test_chat_with_an_unreachable_provider_fails_visibly_and_exits_1(
        cli: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    make_room(cli, "roundtable")
    monkeypatch.setenv("PANTHEON_LLM_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("PANTHEON_LLM_MAX_ATTEMPTS", "1")
    result = cli.error("chat", "Launch", "Anyone there?")
    assert result.stdout.count("✗ failed: provider_unreachable") == 2
    assert "✗ failed · 0 steps ok, 2 failed · " in result.stdout

    events = ndjson(cli.error("chat", "Launch", "Anyone there?", "--json").stdout)
    assert events[-1]["type"] == "turn_failed"
    assert events[-1]["data"]["status"] == "failed"
    assert events[-1]["data"]["error"]["code"] == "provider_unreachable"


def test_chat_reads_the_message_from_stdin_given_a_dash(cli: Driver) -> None:
    make_room(cli, "roundtable", agents=("Ada",))
    result = cli.runner.invoke(app, ["--as", ANN, "chat", "Launch", "-", "--json"],
                               input="A long question\nover two lines\n")
    assert result.exit_code == 0, result.output
    assert ndjson(result.stdout)[0]["data"]["message"] == "A long question\nover two lines"


def test_chat_in_an_unknown_room_or_without_agents_is_one_error(cli: Driver) -> None:
    assert cli.error("chat", "Nowhere", "hi").stderr.startswith("error[room_not_found]")
    cli.ok("rooms", "create", "Empty")
    assert cli.error("chat", "Empty", "hi").stderr.startswith("error[room_has_no_agents]")
    assert cli.error("chat", "Empty", "   ").stderr.startswith("error[empty_message]")


@pytest.mark.parametrize(("status", "interrupted", "code"), [
    ("completed", False, 0), ("partial", False, 0), ("failed", False, 1),
    ("cancelled", False, 1), (None, False, 1), ("cancelled", True, EXIT_INTERRUPTED),
    (None, True, EXIT_INTERRUPTED),
])
def test_exit_code_follows_the_turn_outcome(status: str | None, interrupted: bool,
                                            code: int) -> None:
    assert TurnEnd(status, interrupted=interrupted).exit_code == code


# --- turns show / events / cancel ---------------------------------------------------------


def test_turns_show_is_the_snapshot_of_what_streamed(cli: Driver) -> None:
    make_room(cli, "roundtable")
    events = chat_events(cli, "Launch", "Hello there")
    turn_id = events[0]["turn_id"]

    snapshot = cli.json("turns", "show", turn_id)
    assert snapshot["turn"]["id"] == turn_id
    assert snapshot["turn"]["status"] == "completed"
    assert snapshot["turn"]["message"] == "Hello there"
    assert snapshot["turn"]["last_seq"] == len(events)
    assert snapshot["turn"]["credits"] == events[-1]["data"]["credits"]
    completed = of_type(events, "step_completed")
    assert [(s["step_id"], s["content"], s["credits"], s["status"]) for s in snapshot["steps"]] == [
        (e["step_id"], e["data"]["content"], e["data"]["credits"], "ok") for e in completed]
    assert [(s["agent_name"], s["handle"], s["model_alias"], s["kind"])
            for s in snapshot["steps"]] == [("Ada", "@Ada", "qwen", "worker"),
                                            ("Bob", "@Bob", "llama", "worker")]

    shown = cli.ok("turns", "show", turn_id).stdout
    assert turn_id in shown and "completed" in shown and "Hello there" in shown
    header, ada, bob = position(shown, "Turn", "Ada (@Ada) · roundtable worker",
                                "Bob (@Bob) · roundtable worker")
    assert header < ada < bob
    assert "✓ completed · 2 steps ok, 0 failed" in shown


def test_turns_events_replays_the_stream_and_after_gives_the_suffix(cli: Driver) -> None:
    make_room(cli, "roundtable")
    streamed = chat_events(cli, "Launch", "Hello there")
    turn_id = streamed[0]["turn_id"]

    assert ndjson(cli.ok("turns", "events", turn_id).stdout) == streamed
    for after in (1, 7, len(streamed) - 1):
        suffix = ndjson(cli.ok("turns", "events", turn_id, "--after", str(after)).stdout)
        assert suffix == streamed[after:]
    assert cli.ok("turns", "events", turn_id, "--after", str(len(streamed))).stdout == ""
    cli.error("turns", "events", turn_id, "--after", "-1", exit_code=2)


def test_turns_cancel_an_ended_turn_is_a_conflict(cli: Driver) -> None:
    make_room(cli, "roundtable")
    turn_id = chat_events(cli, "Launch", "Hello")[0]["turn_id"]
    result = cli.error("turns", "cancel", turn_id)
    assert result.stderr.startswith("error[turn_not_running]: This turn already ended "
                                    "(completed).")
    assert json.loads(cli.error("turns", "cancel", turn_id, "--json").stdout)[
        "error"]["details"] == {"status": "completed"}


def test_another_users_turn_is_not_found(cli: Driver) -> None:
    make_room(cli, "roundtable")
    turn_id = chat_events(cli, "Launch", "Hello")[0]["turn_id"]
    for command in ("show", "cancel"):
        result = cli.error("turns", command, turn_id, user=BOB)
        assert result.stderr.startswith("error[turn_not_found]"), result.stderr
    # ``turns events`` always speaks NDJSON, so its error is one JSON line on stdout.
    events = cli.error("turns", "events", turn_id, user=BOB)
    assert json.loads(events.stdout)["error"]["code"] == "turn_not_found"


# --- the installed console script ---------------------------------------------------------


def run_script(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), "--as", "ann@example.com", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


# The console script starts in ~1.5 s (a fresh interpreter importing everything), so the two
# tests below set their room up in-process (``cli``, the same data directory, acting as the
# same user) and run only what they are about through the script.


def test_console_script_chat_smoke(cli: Driver, tmp_path: Path) -> None:
    cli.ok("rooms", "create", "Smoke")
    cli.ok("agents", "add", "Smoke", "Ada", "--model", "qwen")
    env = {**script_env(tmp_path / "data"), "PANTHEON_OFFLINE_WORD_DELAY_MS": "0",
           "COLUMNS": "100"}

    chat = run_script(env, "chat", "Smoke", "Say hello")
    assert chat.returncode == 0, chat.stderr
    assert "Ada (@Ada) · roundtable worker · qwen" in chat.stdout
    assert "[offline model]" in chat.stdout
    assert "✓ completed · 1 step ok, 0 failed" in chat.stdout


def test_ctrl_c_cancels_the_turn_and_exits_130_once_it_ended(cli: Driver,
                                                               tmp_path: Path) -> None:
    cli.ok("rooms", "create", "Slow")
    cli.ok("agents", "add", "Slow", "Ada", "--model", "qwen")
    cli.ok("agents", "add", "Slow", "Bob", "--model", "llama")
    env = {**script_env(tmp_path / "data"), "PANTHEON_OFFLINE_WORD_DELAY_MS": "40"}

    chat = subprocess.Popen([str(SCRIPT), "--as", "ann@example.com", "chat", "Slow",
                             "Take your time", "--json"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert chat.stdout is not None and chat.stderr is not None
    lines = []
    try:
        while not lines or json.loads(lines[-1])["type"] != "step_delta":
            lines.append(chat.stdout.readline())  # until the first agent is streaming
        os.kill(chat.pid, signal.SIGINT)
        chat.wait(timeout=60)  # what is left to print fits in the pipe
    finally:
        if chat.poll() is None:
            chat.kill()
    events = ndjson("".join(lines) + chat.stdout.read())
    errors = chat.stderr.read()

    assert chat.returncode == EXIT_INTERRUPTED, errors
    assert "Cancelling the turn" in errors
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["type"] == "turn_failed"
    assert events[-1]["data"]["status"] == "cancelled"
    assert len(of_type(events, "step_started")) == 1  # Bob never started
