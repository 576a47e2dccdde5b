"""The ``pantheon`` CLI end to end, rooms and agents: real use cases on embedded SQLite.

Each test gets its own ``PANTHEON_DATA_DIR`` (so its own database and outbox) and drives
the Typer app in-process with ``CliRunner``. Assertions are on what a person or a script
sees: tables, JSON, exit codes. ``test_cli_ops.py`` covers auth, admin, db and processes.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing
from click.testing import Result
from typer.testing import CliRunner

from pantheon_cli.main import app

ANN = "ann@example.com"
BOB = "bob@example.com"


class Driver:
    """Runs ``pantheon`` commands in-process, optionally as a user."""

    def __init__(self, runner: CliRunner) -> None:
        self.runner = runner

    def __call__(self, *args: str, user: str | None = ANN) -> Result:
        prefix = ["--as", user] if user else []
        return self.runner.invoke(app, [*prefix, *args])

    def ok(self, *args: str, user: str | None = ANN) -> Result:
        result = self(*args, user=user)
        assert result.exit_code == 0, result.output
        return result

    def json(self, *args: str, user: str | None = ANN) -> Any:
        return json.loads(self.ok(*args, "--json", user=user).stdout)

    def error(self, *args: str, user: str | None = ANN, exit_code: int = 1) -> Result:
        result = self(*args, user=user)
        assert result.exit_code == exit_code, result.output
        assert "Traceback" not in result.output
        return result


# Typer's ``CliRunner.invoke`` rebuilds the Click command from every command's signature on
# each call (~60 ms, half of a short command); the app does not change, so build it once.
_click_command = functools.cache(typer.main.get_command)


def isolated_driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Driver:
    """A driver on a fresh data directory, with no other ``PANTHEON_*`` settings."""
    monkeypatch.setattr(typer.testing, "_get_command", _click_command)
    for name in list(os.environ):
        if name.startswith("PANTHEON_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PANTHEON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "80")
    return Driver(CliRunner())


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Driver:
    return isolated_driver(tmp_path, monkeypatch)


def make_room(cli: Driver, name: str = "Strategy", agents: Sequence[str] = ()) -> str:
    room_id: str = cli.json("rooms", "create", name)["id"]
    for agent in agents:
        cli.ok("agents", "add", name, agent, "--model", "qwen")
    return room_id


# --- rooms, agents and the mode ----------------------------------------------------------


def test_create_room_add_agents_set_mode_show_pending_vs_current(cli: Driver) -> None:
    created = cli.ok("rooms", "create", "Strategy", "--description", "Plan the quarter")
    assert "Strategy" in created.stdout
    assert "roundtable" in created.stdout
    cli.ok("agents", "add", "Strategy", "Ada", "--model", "qwen", "--role",
           "A careful analyst of numbers.", "--web-search")
    cli.ok("agents", "add", "strategy", "Bob", "--model", "deepseek", "--files")

    switched = cli.ok("rooms", "mode", "Strategy", "manual")
    assert "pending: manual — applies on next send (current: roundtable)" in switched.stdout

    shown = cli.ok("rooms", "show", "Strategy").stdout
    assert "roundtable" in shown
    assert "manual — applies on next send" in shown
    assert "@Ada" in shown and "@Bob" in shown
    assert "web_search" in shown and "A careful analyst of numbers." in shown

    detail = cli.json("rooms", "show", "Strategy")
    assert detail["room"]["current_mode"] == "roundtable"
    assert detail["room"]["pending_mode"] == "manual"
    assert detail["room"]["next_send_mode"] == "manual"
    assert detail["room"]["description"] == "Plan the quarter"
    assert [(a["handle"], a["position"], a["model_alias"]) for a in detail["agents"]] == [
        ("@Ada", 0, "qwen"), ("@Bob", 1, "deepseek")]
    assert detail["agents"][0]["tools"] == {"web_search": True, "files": False}
    assert detail["agents"][1]["tools"] == {"web_search": False, "files": True}


def test_show_without_pending_mode_says_none(cli: Driver) -> None:
    make_room(cli)
    room = cli.json("rooms", "show", "Strategy")["room"]
    assert room["pending_mode"] is None
    assert room["next_send_mode"] == room["current_mode"] == "roundtable"
    assert "Pending mode  none" in cli.ok("rooms", "show", "Strategy").stdout


def test_room_is_found_by_id_and_listed(cli: Driver) -> None:
    room_id = make_room(cli, "Research")
    cli.ok("rooms", "create", "Ops", "--mode", "orchestrator")
    assert cli.json("rooms", "show", room_id)["room"]["name"] == "Research"
    rooms = cli.json("rooms", "list")
    assert {(r["name"], r["current_mode"]) for r in rooms} == {
        ("Research", "roundtable"), ("Ops", "orchestrator")}
    table = cli.ok("rooms", "list").stdout
    assert "Research" in table and "Ops" in table and room_id in table


def test_update_renames_and_requires_a_change(cli: Driver) -> None:
    make_room(cli)
    updated = cli.json("rooms", "update", "Strategy", "--name", "Plans", "--description", "Q3")
    assert (updated["name"], updated["description"]) == ("Plans", "Q3")
    result = cli.error("rooms", "update", "Plans", exit_code=2)
    assert "error[nothing_to_update]" in result.stderr


def test_agents_reorder_edit_remove(cli: Driver) -> None:
    make_room(cli, agents=["Ada", "Bob", "Cy"])
    order = cli.json("agents", "reorder", "Strategy", "Cy", "ada", "Bob")
    assert [a["name"] for a in order] == ["Cy", "Ada", "Bob"]

    edited = cli.json("agents", "edit", "Strategy", "Bob", "--name", "Bea", "--model", "llama",
                      "--web-search", "--position", "0")
    assert (edited["name"], edited["model_alias"], edited["position"]) == ("Bea", "llama", 0)
    assert edited["tools"] == {"web_search": True, "files": False}

    cli.ok("agents", "edit", "Strategy", "Bea", "--no-web-search", "--role", "Short answers.")
    removed = cli.ok("agents", "remove", "Strategy", "Ada")
    assert "Removed @Ada" in removed.stdout

    agents = cli.json("agents", "list", "Strategy")
    assert [(a["name"], a["position"]) for a in agents] == [("Bea", 0), ("Cy", 1)]
    assert agents[0]["tools"]["web_search"] is False
    assert agents[0]["role_prompt"] == "Short answers."
    assert "@Bea" in cli.ok("agents", "list", "Strategy").stdout


def test_agent_role_from_file(cli: Driver, tmp_path: Path) -> None:
    make_room(cli)
    role = tmp_path / "role.md"
    role.write_text("You check every claim.\nCite sources.", encoding="utf-8")
    agent = cli.json("agents", "add", "Strategy", "Vera", "--model", "premium",
                     "--role-file", str(role))
    assert agent["role_prompt"] == "You check every claim.\nCite sources."
    both = cli.error("agents", "add", "Strategy", "Max", "--model", "qwen", "--role", "x",
                     "--role-file", str(role), exit_code=2)
    assert "error[conflicting_options]" in both.stderr


def test_edit_without_options_is_a_usage_error(cli: Driver) -> None:
    make_room(cli, agents=["Ada"])
    result = cli.error("agents", "edit", "Strategy", "Ada", exit_code=2)
    assert "error[nothing_to_change]" in result.stderr


def test_reorder_must_name_every_agent(cli: Driver) -> None:
    make_room(cli, agents=["Ada", "Bob"])
    result = cli.error("agents", "reorder", "Strategy", "Ada")
    assert "error[invalid_agent_order]" in result.stderr


def test_duplicate_agent_name_is_one_clear_line_and_exit_1(cli: Driver) -> None:
    make_room(cli, agents=["Ada"])
    result = cli.error("agents", "add", "Strategy", "ADA", "--model", "qwen")
    first, *rest = result.stderr.strip().splitlines()
    assert first.startswith("error[duplicate_agent_name]: ")
    assert "'Ada'" in first
    assert len(rest) <= 1  # at most one line of details
    assert result.stdout == ""
    assert [a["name"] for a in cli.json("agents", "list", "Strategy")] == ["Ada"]


def test_errors_are_json_with_json_flag(cli: Driver) -> None:
    make_room(cli, agents=["Ada"])
    result = cli.error("agents", "add", "Strategy", "ada", "--model", "qwen", "--json")
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "duplicate_agent_name"
    assert error["details"]["existing"] == "Ada"
    assert set(error) == {"code", "message", "details"}


def test_unknown_mode_lists_the_allowed_modes_and_changes_nothing(cli: Driver) -> None:
    make_room(cli)
    result = cli.error("rooms", "mode", "Strategy", "chaos")
    assert result.stderr.startswith("error[invalid_mode]: ")
    for mode in ("manual", "roundtable", "orchestrator"):
        assert mode in result.stderr
    as_json = json.loads(cli.error("rooms", "mode", "Strategy", "chaos", "--json").stdout)
    assert as_json["error"]["details"]["allowed"] == ["manual", "roundtable", "orchestrator"]
    assert cli.json("rooms", "show", "Strategy")["room"]["pending_mode"] is None


@pytest.mark.parametrize(("args", "code"), [
    (("agents", "add", "Strategy", "Zed", "--model", "gpt5"), "unknown_model_alias"),
    (("agents", "add", "Strategy", "two words", "--model", "qwen"), "invalid_agent_name"),
    (("agents", "add", "Strategy", "Zed", "--model", "qwen", "--role", "x" * 4001),
     "role_prompt_too_long"),
    (("agents", "remove", "Strategy", "Nobody"), "agent_not_found"),
    (("rooms", "show", "Nowhere"), "room_not_found"),
    (("rooms", "create", "   "), "invalid_room_name"),
])
def test_bad_input_is_a_typed_error(cli: Driver, args: tuple[str, ...], code: str) -> None:
    make_room(cli)
    assert cli.error(*args).stderr.startswith(f"error[{code}]: ")


def test_someone_elses_room_is_not_found(cli: Driver) -> None:
    room_id = make_room(cli)
    for args in (("rooms", "show", room_id), ("rooms", "mode", room_id, "manual"),
                 ("rooms", "delete", room_id), ("agents", "list", "Strategy")):
        assert cli.error(*args, user=BOB).stderr.startswith("error[room_not_found]")
    assert cli.json("rooms", "list", user=BOB) == []
    assert cli.json("rooms", "show", room_id)["room"]["pending_mode"] is None


def test_delete_and_restore(cli: Driver) -> None:
    room_id = make_room(cli)
    deleted = cli.ok("rooms", "delete", "Strategy")
    assert f"pantheon rooms restore {room_id}" in deleted.stdout
    assert cli.json("rooms", "list") == []
    trash = cli.json("rooms", "list", "--deleted")
    assert [r["id"] for r in trash] == [room_id]
    assert trash[0]["restorable_until"] is not None
    assert "Restorable until" in cli.ok("rooms", "list", "--deleted").stdout
    assert cli.error("rooms", "show", "Strategy").stderr.startswith("error[room_not_found]")

    restored = cli.json("rooms", "restore", "Strategy")
    assert restored["deleted_at"] is None
    assert [r["id"] for r in cli.json("rooms", "list")] == [room_id]
    again = cli.error("rooms", "restore", room_id)
    assert again.stderr.startswith("error[room_not_deleted]")


def test_user_commands_need_a_user(cli: Driver) -> None:
    for args in (("rooms", "list"), ("rooms", "create", "X"), ("auth", "token", "list")):
        result = cli.error(*args, user=None, exit_code=2)
        assert "pass --as EMAIL or set PANTHEON_USER" in result.stderr
    as_json = json.loads(cli.error("rooms", "list", "--json", user=None, exit_code=2).stdout)
    assert as_json["error"]["code"] == "user_required"


def test_pantheon_user_environment_variable_is_the_default_user(
        cli: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTHEON_USER", ANN)
    cli.ok("rooms", "create", "Env", user=None)
    assert [r["name"] for r in cli.json("rooms", "list")] == ["Env"]


def test_tables_fit_80_columns(cli: Driver) -> None:
    make_room(cli, "A room with a rather long name for a narrow terminal")
    cli.ok("agents", "add", "A room with a rather long name for a narrow terminal", "Ada",
           "--model", "gpt_oss", "--web-search", "--files", "--role", "word " * 200)
    for args in (("rooms", "list"), ("rooms", "show", "A room with a rather long name for a "
                                                    "narrow terminal")):
        lines = cli.ok(*args).stdout.splitlines()
        assert max(len(line) for line in lines) <= 80
