"""``pantheon billing`` end to end: real use cases, the offline model and the credit ledger
on embedded SQLite, driven in-process with ``CliRunner``. Reconciliation is checked against
a usage row tampered with raw SQL on the database file."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli import ANN, BOB, Driver, isolated_driver
from tests.e2e.test_cli_chat import make_room, ndjson, of_type


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Driver:
    driver = isolated_driver(tmp_path, monkeypatch)
    monkeypatch.setenv("PANTHEON_OFFLINE_WORD_DELAY_MS", "0")
    return driver


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "data" / "pantheon.db"


def chat_credits(cli: Driver, message: str = "What first?") -> Decimal:
    """Send to the ``Launch`` room; the turn's credits (from its terminal event)."""
    events = ndjson(cli.ok("chat", "Launch", message, "--json").stdout)
    [completed] = of_type(events, "turn_completed")
    steps = of_type(events, "step_completed")
    total = Decimal(completed["data"]["credits"])
    assert total == sum(Decimal(s["data"]["credits"]) for s in steps) > 0
    return total


# --- quotes: DESIGN §5's worked examples ------------------------------------------------------


@pytest.mark.parametrize(("model", "cached", "credits", "oe"), [
    ("deepseek", "2000", "0.450000", "4500"),
    ("qwen", "2000", "0.270000", "4500"),
    ("deepseek", None, "0.500000", "5000"),
])
def test_quote_gives_the_worked_examples(cli: Driver, model: str, cached: str | None,
                                         credits: str, oe: str) -> None:
    args = ["billing", "quote", "--model", model, "--prompt-tokens", "12000",
            "--completion-tokens", "800", *(["--cached-tokens", cached] if cached else [])]
    quote = cli.json(*args, user=None)
    assert quote["credits"] == credits
    assert Decimal(quote["output_equivalent"]) == Decimal(oe)
    assert quote["cached_tokens"] == (int(cached) if cached else None)
    assert (quote["model_alias"], quote["prompt_tokens"], quote["completion_tokens"]) == (
        model, 12000, 800)
    assert quote["tool_credits"] == "0.000000" and quote["tool_calls"] == {}
    assert all(isinstance(quote[k], str) for k in (
        "output_equivalent", "model_multiplier", "billed_multiplier", "tool_credits",
        "credits"))

    shown = cli.ok(*args, user=None).stdout
    assert "Quote" in shown and credits in shown
    assert f"Output equivalent  {oe}" in shown
    assert ("not reported" in shown) == (cached is None)


def test_quote_shows_the_floor_and_tool_credits(cli: Driver) -> None:
    args = ["billing", "quote", "--model", "llama", "--prompt-tokens", "12000",
            "--cached-tokens", "2000", "--completion-tokens", "800", "--web-searches", "2",
            "--file-reads", "1"]
    quote = cli.json(*args, user=None)
    assert (Decimal(quote["model_multiplier"]), Decimal(quote["billed_multiplier"])) == (
        Decimal("0.4"), Decimal("0.5"))
    assert quote["tool_calls"] == {"web_search": 2, "read_file": 1}
    tools = Decimal(quote["tool_credits"])
    assert tools > 0 and Decimal(quote["credits"]) == Decimal("0.225") + tools
    shown = cli.ok(*args, user=None).stdout
    assert "0.4 → 0.5 (the floor)" in shown and "2 × web_search" in shown


def test_quote_refuses_unknown_models_and_versions(cli: Driver) -> None:
    base = ["billing", "quote", "--prompt-tokens", "10", "--completion-tokens", "1"]
    assert cli.error(*base, "--model", "gpt-9", user=None).stderr.startswith(
        "error[unknown_model_alias]")
    assert cli.error(*base, "--model", "qwen", "--pricing-version", "1999-v0",
                     user=None).stderr.startswith("error[pricing_version_not_found]")
    assert cli.error(*base, "--model", "qwen", "--cached-tokens", "11",
                     user=None).stderr.startswith("error[invalid_tokens]")


# --- the wallet, the ledger and usage ---------------------------------------------------------


def test_wallet_ledger_and_usage_after_a_chat(cli: Driver) -> None:
    fresh = cli.json("billing", "wallet")
    assert (fresh["available"], fresh["topup_credits"], fresh["plan"]) == (
        "100.000000", "100.000000", None)
    make_room(cli, "roundtable")  # Ada on qwen, Bob on llama
    spent = chat_credits(cli) + chat_credits(cli, "And then?")

    wallet = cli.json("billing", "wallet")
    assert Decimal(wallet["available"]) == Decimal(100) - spent
    assert Decimal(wallet["burned_this_month"]) == spent
    assert "premium" in wallet["models"] and wallet["monthly_cap"] is None
    panel = cli.ok("billing", "wallet").stdout
    assert "Wallet" in panel and wallet["available"] in panel and "Burned this month" in panel

    entries = cli.json("billing", "ledger", "--limit", "200")
    assert len([e for e in entries if e["kind"] == "burn"]) == 4
    assert sum(Decimal(e["amount"]) for e in entries) == Decimal(wallet["available"])
    assert len(cli.json("billing", "ledger", "--limit", "2")) == 2
    assert "welcome credits" in cli.ok("billing", "ledger").stdout

    by_model = cli.json("billing", "usage")
    assert {r["key"]: r["calls"] for r in by_model["rows"]} == {"llama": 2, "qwen": 2}
    assert by_model["totals"]["calls"] == 4
    assert Decimal(by_model["totals"]["credits"]) == spent
    table = cli.ok("billing", "usage").stdout
    assert "Usage by model" in table and "Total" in table and "qwen" in table

    by_day = cli.json("billing", "usage", "--by", "day")
    [today] = by_day["rows"]
    assert today["calls"] == 4 and Decimal(today["credits"]) == spent
    ranged = cli.json("billing", "usage", "--by", "day", "--from", today["key"],
                      "--to", today["key"])  # --to DAY includes that day
    assert ranged["rows"] == [today]
    assert ranged["from"] == f"{today['key']}T00:00:00+00:00"
    before = cli.json("billing", "usage", "--from", "2020-01-01", "--to", "2020-01-31T12:00")
    assert before["rows"] == [] and before["totals"]["calls"] == 0
    assert "No LLM calls" in cli.ok("billing", "usage", "--from", "2020-01-01",
                                    "--to", "2020-02-01").stdout


def test_usage_refuses_bad_dates_and_groupings(cli: Driver) -> None:
    assert cli.error("billing", "usage", "--from", "soon",
                     exit_code=2).stderr.startswith("error[invalid_date]")
    cli.error("billing", "usage", "--by", "week", exit_code=2)
    assert cli.error("billing", "usage", "--from", "2026-02-02",
                     "--to", "2026-01-01").stderr.startswith("error[invalid_range]")


def test_billing_commands_for_a_user_need_one(cli: Driver) -> None:
    assert cli.error("billing", "wallet", user=None,
                     exit_code=2).stderr.startswith("error[user_required]")


# --- grants -----------------------------------------------------------------------------------


def test_the_operator_grants_credits_and_the_grant_is_in_the_ledger(
        cli: Driver, database: Path) -> None:
    cli.ok("billing", "wallet")  # ann exists
    granted = cli.json("billing", "grant", ANN, "50", "--reason", "Support gesture",
                       user=None)
    assert granted["email"] == ANN
    entry = granted["entry"]
    assert (entry["kind"], entry["bucket"], entry["amount"], entry["note"]) == (
        "grant", "topup", "50.000000", "Support gesture")
    shown = cli.ok("billing", "grant", ANN, "2.5", "--reason", "Again", user=None).stdout
    assert "Granted 2.500000 top-up credits to ann@example.com" in shown

    assert cli.json("billing", "wallet")["topup_credits"] == "152.500000"
    notes = [e["note"] for e in cli.json("billing", "ledger")]
    assert notes[:2] == ["Again", "Support gesture"]
    with sqlite3.connect(database) as db:
        audited = db.execute("SELECT action, target FROM audit_events "
                             "WHERE action = 'billing.grant'").fetchall()
    assert audited == [("billing.grant", ANN), ("billing.grant", ANN)]


def test_a_plain_user_may_not_grant_but_an_owner_may(cli: Driver) -> None:
    refused = cli.error("billing", "grant", ANN, "50", "--reason", "For me", user=ANN)
    assert refused.stderr.startswith("error[owner_required]")
    as_json = cli.error("billing", "grant", ANN, "50", "--reason", "For me", "--json")
    assert json.loads(as_json.stdout)["error"]["code"] == "owner_required"
    assert cli.json("billing", "wallet")["available"] == "100.000000"

    cli.ok("admin", "grant", BOB, "--role", "owner", user=None)
    cli.ok("billing", "grant", ANN, "50", "--reason", "From the owner", user=BOB)
    assert cli.json("billing", "wallet")["available"] == "150.000000"


@pytest.mark.parametrize(("args", "code", "exit_code"), [
    (["nobody@example.com", "5", "--reason", "Nobody"], "user_not_found", 1),
    ([ANN, "5", "--reason", "no"], "reason_required", 1),
    ([ANN, "lots", "--reason", "Plenty"], "invalid_credits", 1),
    (["--reason", "Negative", "--", ANN, "-5"], "invalid_credits", 1),
    ([ANN, "0", "--reason", "Nothing"], "invalid_credits", 1),
    ([ANN, "5"], None, 2),
])
def test_bad_grants_are_refused(cli: Driver, args: list[str], code: str | None,
                                exit_code: int) -> None:
    cli.ok("billing", "wallet")
    result = cli.error("billing", "grant", *args, user=None, exit_code=exit_code)
    if code is not None:
        assert result.stderr.startswith(f"error[{code}]")
    assert cli.json("billing", "wallet")["available"] == "100.000000"


# --- reconciliation ---------------------------------------------------------------------------


def test_reconcile_is_clean_then_finds_a_tampered_usage_row(cli: Driver, database: Path) -> None:
    make_room(cli, "roundtable")
    chat_credits(cli)

    clean: dict[str, Any] = cli.json("billing", "reconcile", user=None)
    assert clean["usage_rows"] == 2 and clean["wallets"] == 1 and clean["discrepancies"] == []
    assert "No discrepancies: 2 usage rows and 1 wallets checked" in cli.ok(
        "billing", "reconcile", user=None).stdout

    with sqlite3.connect(database) as db:
        row_id, burned = db.execute("SELECT id, credits_burned FROM llm_call_events "
                                    "ORDER BY id LIMIT 1").fetchone()
        db.execute("UPDATE llm_call_events SET credits_burned = credits_burned + 7 "
                   "WHERE id = ?", (row_id,))

    found = cli.error("billing", "reconcile", "--json", user=None)
    report = json.loads(found.stdout)
    assert report["usage_rows"] == 2 and report["wallets"] == 1
    [discrepancy] = report["discrepancies"]
    assert (discrepancy["kind"], discrepancy["ref"]) == ("usage_credits", row_id)
    assert Decimal(discrepancy["found"]) - Decimal(discrepancy["expected"]) == Decimal(
        "0.000007")
    table = cli.error("billing", "reconcile", user=None).stdout
    assert "1 discrepancy" in table and "usage_credits" in table and burned is not None

    outside = cli.json("billing", "reconcile", "--from", "2020-01-01", "--to", "2020-01-02",
                       user=None)  # no usage rows in range; every wallet is still checked
    assert outside["usage_rows"] == 0 and outside["discrepancies"] == []


def test_reconcile_is_for_admins(cli: Driver) -> None:
    assert cli.error("billing", "reconcile").stderr.startswith("error[admin_required]")
    cli.ok("admin", "grant", ANN, "--role", "analyst", user=None)
    assert cli.json("billing", "reconcile")["discrepancies"] == []


# --- buying credits, and sends refused for credits --------------------------------------------


def test_checkout_and_portal_without_stripe_say_so(cli: Driver) -> None:
    assert cli.error("billing", "checkout", "--plan", "pro").stderr.startswith(
        "error[payments_not_configured]")
    assert cli.error("billing", "portal").stderr.startswith("error[payments_not_configured]")
    as_json = cli.error("billing", "checkout", "--pack", "small", "--json")
    assert json.loads(as_json.stdout)["error"]["code"] == "payments_not_configured"
    for args in ([], ["--plan", "pro", "--pack", "small"]):
        cli.error("billing", "checkout", *args, exit_code=2)


def test_chat_with_an_empty_wallet_is_refused_with_insufficient_credits(
        cli: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTHEON_WELCOME_CREDITS", "0")
    make_room(cli, "roundtable")
    result = cli.error("chat", "Launch", "Hello?")
    assert result.stderr.startswith("error[insufficient_credits]: ")
    assert result.stdout == ""
    as_json = cli.error("chat", "Launch", "Hello?", "--json")
    assert json.loads(as_json.stdout)["error"]["code"] == "insufficient_credits"
    assert cli.json("rooms", "timeline", "Launch")["entries"] == []
