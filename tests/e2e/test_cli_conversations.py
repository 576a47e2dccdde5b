"""The CLI's conversations end to end: room sessions and timelines, direct (1:1) chats with
their own memory, and the model catalogue. Real use cases and the offline model on
embedded SQLite, driven in-process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli import BOB, Driver, isolated_driver
from tests.e2e.test_cli_chat import chat_events, make_room, ndjson, of_type


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Driver:
    driver = isolated_driver(tmp_path, monkeypatch)
    monkeypatch.setenv("PANTHEON_OFFLINE_WORD_DELAY_MS", "0")
    return driver


def messages(page: dict[str, Any]) -> list[str]:
    return [entry["turn"]["message"] for entry in page["entries"]]


def prompt_tokens(events: list[dict[str, Any]]) -> int:
    """What the (one) step's model call was sent: its memory shows up here."""
    (done,) = of_type(events, "step_completed")
    tokens: int = done["data"]["usage"]["prompt_tokens"]
    return tokens


# --- room sessions and the timeline -------------------------------------------------------


def test_timeline_shows_each_message_then_every_step_as_its_own_message(cli: Driver) -> None:
    make_room(cli, "roundtable")
    first = chat_events(cli, "Launch", "First question")
    cli.ok("rooms", "mode", "Launch", "manual")
    chat_events(cli, "Launch", "@bob second question")

    page = cli.json("rooms", "timeline", "Launch")
    assert messages(page) == ["First question", "@bob second question"]  # oldest first
    assert page["next_before"] is None
    one, two = page["entries"]
    assert one["turn"]["id"] == first[0]["turn_id"]
    assert [(s["agent_name"], s["model_alias"], s["mode"], s["kind"], s["status"])
            for s in one["steps"]] == [("Ada", "qwen", "roundtable", "worker", "ok"),
                                       ("Bob", "llama", "roundtable", "worker", "ok")]
    assert [s["content"] for s in one["steps"]] == [
        e["data"]["content"] for e in of_type(first, "step_completed")]
    assert [(s["agent_name"], s["mode"]) for s in two["steps"]] == [("Bob", "manual")]
    assert all(float(s["credits"]) > 0 for s in one["steps"] + two["steps"])

    shown = cli.ok("rooms", "timeline", "Launch").stdout
    order = [shown.find(part) for part in (
        "You · roundtable", "First question", "Ada (@Ada) · roundtable worker · qwen",
        "Bob (@Bob) · roundtable worker · llama", "✓ completed · 2 steps ok", "You · manual",
        "@bob second question", "✓ completed · 1 step ok")]
    assert -1 not in order and order == sorted(order), shown


def test_timeline_pages_with_limit_and_before(cli: Driver) -> None:
    make_room(cli, "roundtable", agents=("Ada",))
    for n in range(3):
        chat_events(cli, "Launch", f"message {n}")
    newest = cli.json("rooms", "timeline", "Launch", "--limit", "2")
    assert messages(newest) == ["message 1", "message 2"]
    assert newest["next_before"]
    assert f"--before {newest['next_before']}" in cli.ok("rooms", "timeline", "Launch",
                                                         "--limit", "2").stdout
    older = cli.json("rooms", "timeline", "Launch", "--limit", "2", "--before",
                     newest["next_before"])
    assert messages(older) == ["message 0"]
    assert older["next_before"] is None
    bad = cli.error("rooms", "timeline", "Launch", "--before", "yesterday", exit_code=2)
    assert bad.stderr.startswith("error[invalid_before]")


def test_new_session_gives_fresh_memory_and_its_own_timeline(cli: Driver) -> None:
    make_room(cli, "roundtable", agents=("Ada",))
    assert cli.json("rooms", "sessions", "Launch") == []
    assert "No sessions yet" in cli.ok("rooms", "sessions", "Launch").stdout
    opening = chat_events(cli, "Launch", "Hello")  # the first send starts a session
    remembered = chat_events(cli, "Launch", "Hello")
    (old,) = cli.json("rooms", "sessions", "Launch")
    assert prompt_tokens(remembered) > prompt_tokens(opening)  # it sees the first turn

    fresh = cli.json("rooms", "new-session", "Launch", "--title", "Second try")
    assert fresh["title"] == "Second try" and fresh["room_id"] == old["room_id"]
    sessions = cli.json("rooms", "sessions", "Launch")
    assert [s["id"] for s in sessions] == [fresh["id"], old["id"]]  # newest first
    table = cli.ok("rooms", "sessions", "Launch").stdout
    assert "Second try" in table and fresh["id"] in table and old["id"] in table

    restarted = chat_events(cli, "Launch", "Hello")
    assert restarted[0]["data"]["session_id"] == fresh["id"]
    assert prompt_tokens(restarted) == prompt_tokens(opening)  # nothing remembered
    assert messages(cli.json("rooms", "timeline", "Launch")) == ["Hello"]

    back = chat_events(cli, "Launch", "Back again", "--session", old["id"])
    assert back[0]["data"]["session_id"] == old["id"]
    assert messages(cli.json("rooms", "timeline", "Launch", "--session", old["id"])) == [
        "Hello", "Hello", "Back again"]
    assert cli.error("chat", "Launch", "hi", "--session", "nope").stderr.startswith(
        "error[session_not_found]")


def test_room_sessions_belong_to_the_room_owner(cli: Driver) -> None:
    make_room(cli, "roundtable", agents=("Ada",))
    for args in (("rooms", "sessions", "Launch"), ("rooms", "timeline", "Launch"),
                 ("rooms", "new-session", "Launch")):
        assert cli.error(*args, user=BOB).stderr.startswith("error[room_not_found]")


# --- direct chats -------------------------------------------------------------------------


def test_direct_chat_from_a_room_agent_new_list_chat_history(cli: Driver) -> None:
    make_room(cli, "roundtable")
    created = cli.ok("direct", "new", "--room", "Launch", "--agent", "ada", "--title", "Budget")
    assert "Started direct chat Budget with @Ada" in created.stdout
    (session,) = cli.json("direct", "list")
    assert session["title"] == "Budget"
    assert session["agent"]["handle"] == "@Ada" and session["agent"]["model_alias"] == "qwen"
    assert session["source_agent_id"] is not None
    listed = cli.ok("direct", "list").stdout
    assert "Budget" in listed and "@Ada" in listed and session["id"] in listed

    shown = cli.ok("direct", "chat", session["id"], "How much can we spend?").stdout
    assert shown.startswith("direct turn ")
    assert "Ada (@Ada) · direct · qwen" in shown
    assert "✓ completed · 1 step ok, 0 failed" in shown
    events = ndjson(cli.ok("direct", "chat", session["id"], "And next year?", "--json").stdout)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["data"]["mode"] == "direct"
    assert events[0]["data"]["direct_session_id"] == session["id"]
    assert events[-1]["type"] == "turn_completed"

    history = cli.json("direct", "history", session["id"])
    assert messages(history) == ["How much can we spend?", "And next year?"]
    assert [(s["agent_name"], s["kind"], s["mode"]) for e in history["entries"]
            for s in e["steps"]] == [("Ada", "direct", "direct")] * 2
    assert messages(cli.json("direct", "history", session["id"], "--limit", "1")) == [
        "And next year?"]
    text = cli.ok("direct", "history", session["id"]).stdout
    assert text.find("How much can we spend?") < text.find("And next year?")


def test_direct_memory_is_separate_from_the_room(cli: Driver) -> None:
    make_room(cli, "roundtable", agents=("Ada",))
    first = cli.json("direct", "new", "--room", "Launch", "--agent", "Ada")["id"]
    opening = ndjson(cli.ok("direct", "chat", first, "Hello", "--json").stdout)
    for text in ("We talk budget in the room", "And a lot more budget in the room"):
        chat_events(cli, "Launch", text)
    second = cli.json("direct", "new", "--room", "Launch", "--agent", "Ada")["id"]

    fresh = ndjson(cli.ok("direct", "chat", second, "Hello", "--json").stdout)
    assert prompt_tokens(fresh) == prompt_tokens(opening)  # no room talk leaked in
    again = ndjson(cli.ok("direct", "chat", first, "Hello", "--json").stdout)
    assert prompt_tokens(again) > prompt_tokens(opening)  # its own memory is there

    room = cli.json("rooms", "timeline", "Launch")
    assert messages(room) == ["We talk budget in the room", "And a lot more budget in the room"]
    assert messages(cli.json("direct", "history", second)) == ["Hello"]


def test_direct_chat_with_a_new_agent_definition(cli: Driver) -> None:
    created = cli.json("direct", "new", "--name", "Poet", "--model", "llama", "--role",
                       "Writes short poems.", "--web-search")
    assert created["title"] == "Chat with Poet"
    assert created["source_agent_id"] is None
    assert created["agent"]["tools"] == {"web_search": True, "files": False}
    assert created["agent"]["role_prompt"] == "Writes short poems."
    shown = cli.ok("direct", "chat", created["id"], "A poem about tea").stdout
    assert "Poet (@Poet) · direct · llama" in shown and "✓ completed" in shown


def test_direct_new_needs_exactly_one_agent_source(cli: Driver) -> None:
    make_room(cli, "roundtable", agents=("Ada",))
    cases = [(), ("--room", "Launch"), ("--name", "Solo"), ("--model", "qwen"),
             ("--room", "Launch", "--agent", "Ada", "--name", "Solo")]
    for args in cases:
        result = cli.error("direct", "new", *args, exit_code=2)
        assert "Pass --room ROOM --agent AGENT" in result.stderr, args
    assert cli.error("direct", "new", "--name", "Solo", "--model", "gpt9").stderr.startswith(
        "error[unknown_model_alias]")
    assert cli.error("direct", "new", "--room", "Launch", "--agent", "Zed").stderr.startswith(
        "error[agent_not_found]")


def test_direct_chats_are_private(cli: Driver) -> None:
    session = cli.json("direct", "new", "--name", "Solo", "--model", "qwen")["id"]
    assert cli.json("direct", "list", user=BOB) == []
    for args in (("direct", "chat", session, "hi"), ("direct", "history", session)):
        assert cli.error(*args, user=BOB).stderr.startswith("error[direct_session_not_found]")
    assert "No direct chats yet" in cli.ok("direct", "list", user=BOB).stdout


# --- models ---------------------------------------------------------------------------------


def test_models_list_shows_aliases_provider_ids_prices_and_manager(cli: Driver) -> None:
    catalog = cli.json("models", "list", user=None)
    assert [m["alias"] for m in catalog["models"]] == [
        "llama", "qwen", "deepseek", "gpt_oss", "premium"]
    assert catalog["manager_model"] == "deepseek"
    assert catalog["multiplier_floor"] == "0.5"
    assert catalog["llm_backend"] == "offline"
    assert catalog["pricing_version"]
    assert set(catalog["tool_credits"]) == {"web_search", "read_file"}
    assert "cached_tokens" in catalog["metadata"]["cached_tokens_policy"]
    for model in catalog["models"]:
        assert "/" in model["provider_model_id"]
        assert model["context_window"] > 0
        prices = [model[f"{kind}_usd_per_mtok"] for kind in ("input", "cached", "output")]
        assert all(float(price) >= 0 for price in prices)
        assert float(model["billed_multiplier"]) == max(float(model["credit_multiplier"]), 0.5)

    table = cli.ok("models", "list", user=None).stdout
    flat = " ".join(table.split())
    assert f"pricing version {catalog['pricing_version']}" in flat
    assert "orchestrator manager: deepseek" in flat
    assert "floor 0.5" in flat and "web_search" in flat and "offline" in flat
    for model in catalog["models"]:
        assert model["alias"] in table
    llama = next(m for m in catalog["models"] if m["alias"] == "llama")
    if llama["billed_multiplier"] != llama["credit_multiplier"]:
        assert f"{llama['credit_multiplier']}→{llama['billed_multiplier']}" in table


def test_json_outputs_parse(cli: Driver) -> None:
    make_room(cli, "roundtable", agents=("Ada",))
    cli.json("rooms", "new-session", "Launch")
    for args in (("rooms", "sessions", "Launch"), ("rooms", "timeline", "Launch"),
                 ("direct", "list"), ("models", "list")):
        json.loads(cli.ok(*args, "--json").stdout)
