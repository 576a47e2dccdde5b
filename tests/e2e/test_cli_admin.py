"""AT-011 through ``pantheon admin`` on embedded SQLite, driven in-process with ``CliRunner``:
every control as the owner (audited, ``client="cli"``) and refused to an analyst and an end
user (changing nothing), reads for owners and analysts, suspension, analytics as tables,
JSON and CSV (equal to the raw rows, before and after a rollup), and the audit log."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from pantheon_cli.views.admin import rollup_progress
from tests.e2e.test_cli import Driver, isolated_driver
from tests.e2e.test_cli_chat import make_room, ndjson, of_type

OWNER, ANALYST, USER, TARGET = ("boss@example.com", "ana@example.com", "joe@example.com",
                                "tim@example.com")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Driver:
    driver = isolated_driver(tmp_path, monkeypatch)
    monkeypatch.setenv("PANTHEON_OFFLINE_WORD_DELAY_MS", "0")
    monkeypatch.setenv("PANTHEON_ROLLUP_LAG_S", "0")  # roll up what was just written
    driver.ok("admin", "grant", OWNER, "--role", "owner", user=None)
    driver.ok("admin", "grant", ANALYST, "--role", "analyst", user=None)
    for email in (USER, TARGET):
        driver.ok("billing", "wallet", user=email)
    return driver


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "data" / "pantheon.db"


def state(cli: Driver) -> dict[str, Any]:
    """What the writes below could change, as the operator sees it (and the settings, where
    the manager model and the rollups' watermark live)."""
    database = Path(os.environ["PANTHEON_DATA_DIR"]) / "pantheon.db"
    with sqlite3.connect(database) as db:
        settings = dict(db.execute("SELECT key, value FROM app_settings").fetchall())
    return {"user": cli.json("admin", "user", TARGET, user=None), "settings": settings}


def last_event(cli: Driver) -> dict[str, Any]:
    [event] = cli.json("admin", "audit", "--limit", "1", user=None)
    return dict(event)


# name: (setup by the operator, the command, audited action, audited target)
WRITES: dict[str, tuple[list[str] | None, list[str], str, str]] = {
    "cap_set": (None, ["admin", "cap", TARGET, "500"], "admin.cap.set", TARGET),
    "cap_clear": (["admin", "cap", TARGET, "40"], ["admin", "cap", TARGET, "--clear"],
                  "admin.cap.clear", TARGET),
    "suspend": (None, ["admin", "suspend", TARGET, "--reason", "abuse report"],
                "admin.user.suspend", TARGET),
    "reactivate": (["admin", "suspend", TARGET, "--reason", "set up"],
                   ["admin", "reactivate", TARGET, "--reason", "resolved"],
                   "admin.user.reactivate", TARGET),
    "policy_allow": (None, ["admin", "policy", TARGET, "--allow", "qwen,llama"],
                     "admin.models.set", TARGET),
    "policy_deny": (None, ["admin", "policy", TARGET, "--deny", "premium"],
                    "admin.models.set", TARGET),
    "policy_clear": (["admin", "policy", TARGET, "--allow", "qwen"],
                     ["admin", "policy", TARGET, "--clear"], "admin.models.set", TARGET),
    "manager_model": (None, ["admin", "manager-model", "qwen"], "admin.manager_model.set",
                      "manager_model"),
    "grant": (None, ["billing", "grant", TARGET, "25", "--reason", "goodwill"],
              "billing.grant", TARGET),
    "rollup": (None, ["admin", "rollup"], "admin.rollup", "usage_rollups"),
}


@pytest.mark.parametrize("name", list(WRITES))
def test_at_011_owner_write_is_audited_from_the_cli(cli: Driver, name: str) -> None:
    setup, command, action, target = WRITES[name]
    if setup:
        cli.ok(*setup, user=None)
    before = state(cli)

    cli.ok(*command, "--json", user=OWNER)

    assert state(cli) != before
    event = last_event(cli)
    assert (event["actor"], event["role"], event["action"], event["target"],
            event["outcome"]) == (OWNER, "owner", action, target, "ok")
    assert event["before"] and event["after"] and event["before"] != event["after"]
    assert event["client"] == "cli" and event["request_id"]


@pytest.mark.parametrize("who", [ANALYST, USER])
def test_at_011_refused_writes_change_nothing_and_are_audited(cli: Driver, who: str) -> None:
    role = "analyst" if who == ANALYST else "user"
    for name, (setup, command, action, target) in WRITES.items():
        if setup:  # what a setup leaves does not matter: a refusal must change nothing
            cli.ok(*setup, user=None)
        before = state(cli)

        refused = cli.error(*command, user=who)

        assert refused.stderr.startswith("error[owner_required]"), name
        assert state(cli) == before, name
        event = last_event(cli)
        assert (event["actor"], event["role"], event["action"], event["target"],
                event["outcome"], event["client"]) == (who, role, action, target, "refused",
                                                       "cli"), name


def test_rollup_ranges(cli: Driver) -> None:
    rolled = cli.json("admin", "rollup", user=OWNER)
    today = datetime.now(UTC).date().isoformat()
    assert rolled["to"] == today and rolled["watermark"] is not None
    again = cli.json("admin", "rollup", user=OWNER)
    assert (again["from"], again["to"]) == (None, None) and again["watermark"]
    shown = cli.ok("admin", "rollup", "--from", "2026-01-01", "--to", "2026-02-15",
                   user=None).stdout
    assert "Rolled up 2026-01-01 → 2026-02-15" in shown


READS = [["users"], ["user", TARGET], ["usage"], ["costs"], ["active"], ["top"], ["audit"]]


def test_at_011_reads_are_for_owners_and_analysts(cli: Driver) -> None:
    for command in READS:
        for who in (OWNER, ANALYST, None):
            cli.json("admin", *command, user=who)
        assert cli.error("admin", *command, user=USER).stderr.startswith(
            "error[admin_required]"), command


# --- users and their controls ---------------------------------------------------------------


def test_users_and_one_user_as_tables_and_json(cli: Driver) -> None:
    listed = cli.json("admin", "users", user=ANALYST)
    assert [u["email"] for u in listed] == [ANALYST, OWNER, USER, TARGET]
    assert [u["email"] for u in cli.json("admin", "users", "--search", "tim",
                                         user=ANALYST)] == [TARGET]
    assert len(cli.json("admin", "users", "--limit", "2", user=ANALYST)) == 2
    table = cli.ok("admin", "users", user=ANALYST).stdout
    assert "Users" in table and "boss@example.com" in table and "owner" in table

    cli.ok("admin", "cap", TARGET, "12.5", user=OWNER)
    cli.ok("admin", "policy", TARGET, "--deny", "premium,qwen", user=OWNER)
    shown = cli.json("admin", "user", TARGET, user=ANALYST)
    assert shown["monthly_cap"] == "12.500000"
    assert shown["models"] == shown["model_policy"] == ["deepseek", "gpt_oss", "llama"]
    panel = cli.ok("admin", "user", TARGET, user=ANALYST).stdout
    assert "Monthly cap" in panel and "12.500000" in panel and "deepseek, gpt_oss" in panel
    assert cli.json("admin", "users", "--status", "suspended", user=ANALYST) == []


BAD_INPUT: list[tuple[list[str], str, int]] = [
    (["cap", TARGET], "invalid_cap", 2),
    (["cap", TARGET, "5", "--clear"], "invalid_cap", 2),
    (["cap", TARGET, "lots"], "invalid_credits", 1),
    (["policy", TARGET], "invalid_policy", 2),
    (["policy", TARGET, "--allow", "gpt-9"], "unknown_model_alias", 1),
    (["suspend", TARGET, "--reason", "x"], "reason_required", 1),
    (["manager-model", "gpt-9"], "unknown_model_alias", 1),
    (["user", "ghost@example.com"], "user_not_found", 1),
    (["usage", "--from", "soon"], "invalid_date", 2),
    (["usage", "--from", "2026-11-20", "--to", "2026-11-19"], "invalid_range", 1),
    (["usage", "--by", "week"], "invalid_grouping", 1),
    (["usage", "--json", "--csv"], "invalid_format", 2),
    (["audit", "--since", "whenever"], "invalid_date", 2),
]


def test_bad_admin_input_is_one_line_and_changes_nothing(cli: Driver) -> None:
    before = state(cli)
    for args, code, exit_code in BAD_INPUT:
        result = cli.error("admin", *args, user=OWNER, exit_code=exit_code)
        if "--json" in args:  # the error document, on stdout
            assert json.loads(result.stdout)["error"]["code"] == code
        else:
            assert result.stderr.startswith(f"error[{code}]"), (args, result.stderr)
    assert state(cli) == before


def test_at_011_suspension_blocks_the_user_and_reactivation_restores(cli: Driver) -> None:
    cli.ok("rooms", "create", "Mine", user=TARGET)
    shown = cli.ok("admin", "suspend", TARGET, "--reason", "abuse report", user=OWNER).stdout
    assert "suspended" in shown
    assert cli.error("rooms", "list", user=TARGET).stderr.startswith("error[account_suspended]")
    assert cli.json("admin", "users", "--status", "suspended", user=ANALYST)[0]["email"] == (
        TARGET)

    cli.ok("admin", "reactivate", TARGET, "--reason", "resolved", user=OWNER)
    assert [r["name"] for r in cli.json("rooms", "list", user=TARGET)] == ["Mine"]
    events = cli.json("admin", "audit", "--target", TARGET, "--action", "admin.user.",
                      user=ANALYST)
    assert [(e["action"], e["reason"]) for e in events] == [
        ("admin.user.reactivate", "resolved"), ("admin.user.suspend", "abuse report")]


# --- analytics ------------------------------------------------------------------------------


def chat(cli: Driver, user: str, message: str) -> None:
    events = ndjson(cli.ok("chat", "Launch", message, "--json", user=user).stdout)
    assert of_type(events, "turn_completed")


def raw_rows(database: Path) -> list[tuple[str, str, int, Decimal]]:
    """``(user e-mail, model alias, 1, credits)`` per raw usage row, straight from SQLite."""
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT u.email, c.model_alias, c.credits_burned FROM "
                          "llm_call_events c JOIN users u ON u.id = c.user_id").fetchall()
    return [(email, alias, 1, Decimal(micro) / 10**6) for email, alias, micro in rows]


def sums(database: Path) -> dict[tuple[str, str], tuple[int, Decimal]]:
    found: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for email, alias, n, spent in raw_rows(database):
        calls, total = found.get((email, alias), (0, Decimal(0)))
        found[(email, alias)] = (calls + n, total + spent)
    return found


def csv_of(cli: Driver, *args: str, user: str | None = ANALYST) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(cli.ok(*args, "--csv", user=user).stdout)))


def test_at_011_usage_costs_active_and_top_match_the_raw_rows(cli: Driver,
                                                              database: Path) -> None:
    make_room(cli, "roundtable", name="Launch")  # ann's room: Ada on qwen, Bob on llama
    chat(cli, "ann@example.com", "What first?")
    chat(cli, "ann@example.com", "And then?")

    def check() -> dict[str, Any]:
        usage = cli.json("admin", "usage", "--by", "user,model", user=ANALYST)
        assert {(r["email"], r["model_alias"]): (r["calls"], Decimal(r["credits"]))
                for r in usage["rows"]} == sums(database)
        assert csv_of(cli, "admin", "usage") == [
            {k: "" if v is None else str(v) for k, v in r.items() if k != "day"}
            for r in usage["rows"]]
        return dict(usage)

    before = check()
    today = datetime.now(UTC).date()
    assert (before["from"], before["to"]) == (today.replace(day=1).isoformat(),
                                              today.isoformat())
    cli.ok("admin", "rollup", user=OWNER)
    assert check() == before
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM usage_rollups_daily").fetchone()[0] == 2

    yesterday = (today - timedelta(days=1)).isoformat()
    empty = cli.json("admin", "usage", "--from", yesterday, "--to", yesterday, user=ANALYST)
    assert empty["rows"] == [] and empty["totals"]["calls"] == 0
    assert "No LLM calls" in cli.ok("admin", "usage", "--to", yesterday, "--from",
                                    yesterday, user=ANALYST).stdout
    table = cli.ok("admin", "usage", user=ANALYST).stdout
    assert "Usage by user, model" in table and "Total" in table and "ann@example.com" in table
    first = cli.json("admin", "usage", "--limit", "1", user=ANALYST)
    assert first["rows"] == before["rows"][:1] and first["totals"] == before["totals"]
    assert first["groups"] == len(before["rows"]) == 2
    assert "rows 2–2 of 2" in cli.ok("admin", "usage", "--limit", "1", "--offset", "1",
                                     user=ANALYST).stdout

    costs = cli.json("admin", "costs", user=ANALYST)
    spent = sum((s for _, (_, s) in sums(database).items()), Decimal(0))
    assert Decimal(costs["credits"]) == spent
    assert csv_of(cli, "admin", "costs") == costs["series"]
    assert "Costs" in cli.ok("admin", "costs", user=ANALYST).stdout

    active = cli.json("admin", "active", user=ANALYST)
    assert (active["dau"], active["wau"], active["mau"]) == (1, 1, 1)
    assert "DAU 1" in cli.ok("admin", "active", user=ANALYST).stdout

    top = cli.json("admin", "top", "--of", "models", "--by", "tokens", user=ANALYST)
    tokens = [r["tokens"] for r in top["rows"]]
    assert {r["model_alias"] for r in top["rows"]} == {"qwen", "llama"}
    assert tokens == sorted(tokens, reverse=True) and [r["rank"] for r in top["rows"]] == [1, 2]
    assert [(r["rank"], r["model_alias"]) for r in csv_of(
        cli, "admin", "top", "--of", "models", "--by", "tokens")] == [
        (str(r["rank"]), r["model_alias"]) for r in top["rows"]]
    users = cli.json("admin", "top", "--of", "users", "--by", "cost", user=ANALYST)
    assert [r["email"] for r in users["rows"]] == ["ann@example.com"]


# --- the audit log and the rollup's progress ------------------------------------------------


def test_audit_filters(cli: Driver) -> None:
    cli.ok("admin", "cap", TARGET, "5", user=OWNER)
    cli.ok("admin", "cap", USER, "6", user=OWNER)
    cli.error("admin", "cap", USER, "7", user=ANALYST)
    everything = cli.json("admin", "audit", "--action", "admin.cap", user=ANALYST)
    assert [(e["action"], e["target"], e["outcome"]) for e in everything] == [
        ("admin.cap.set", USER, "refused"), ("admin.cap.set", USER, "ok"),
        ("admin.cap.set", TARGET, "ok")]

    def actions(*args: str) -> list[tuple[str, str]]:
        return [(e["target"], e["outcome"]) for e in cli.json("admin", "audit", *args,
                                                              user=ANALYST)
                if not e["action"].startswith("admin.role.")]  # the fixture's grants

    assert actions("--target", USER) == [(USER, "refused"), (USER, "ok")]
    assert actions("--outcome", "refused") == actions("--actor", ANALYST) == [
        (USER, "refused")]
    assert actions("--action", "admin.cap", "--limit", "1") == [(USER, "refused")]
    assert actions("--since", "2000-01-01", "--until", "2000-01-02") == []
    table = cli.ok("admin", "audit", user=ANALYST).stdout
    assert "Audit log" in table and "refused" in table and "monthly_cap" in table


def test_rollup_progress_moves_a_month_at_a_time() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=80)
    with rollup_progress(console, 3) as tick:
        for month in (9, 10, 11):
            start = datetime(2026, month, 1).date()
            tick(start, start + timedelta(days=28))
    assert "Rolled up 2026-11" in buffer.getvalue() and "3/3" in buffer.getvalue()
    quiet = io.StringIO()
    with rollup_progress(Console(file=quiet), None) as tick:
        tick(datetime(2026, 1, 1).date(), datetime(2026, 2, 1).date())
    assert quiet.getvalue() == ""
