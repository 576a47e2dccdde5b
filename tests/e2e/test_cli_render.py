"""How the CLI draws a turn on a real terminal: the live region while steps stream, the
plan fallback, failures and long answers. The events come from a real chat (``--json``);
the terminal is a Rich console forced into terminal mode, writing to a buffer."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from pantheon_cli.streaming import PanelSink
from pantheon_cli.views.steps import StepData, step_panel
from pantheon_core.domain.events import TurnEvent
from tests.e2e.test_cli import Driver, isolated_driver
from tests.e2e.test_cli_chat import chat_events, make_room


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Driver:
    driver = isolated_driver(tmp_path, monkeypatch)
    monkeypatch.setenv("PANTHEON_OFFLINE_WORD_DELAY_MS", "0")
    return driver


def terminal(buffer: io.StringIO, *, height: int = 24) -> Console:
    return Console(file=buffer, force_terminal=True, width=80, height=height,
                   color_system=None, highlight=False)


def rendered(step: StepData, **options: Any) -> str:
    console = Console(record=True, width=80, file=io.StringIO(), color_system=None)
    console.print(step_panel(step, **options))
    return console.export_text()


def a_step(**changes: Any) -> StepData:
    step = StepData(step_id="s1", index=0, kind="worker", agent_id="a1", agent_name="Ada",
                    handle="@Ada", model_alias="qwen", model="qwen/qwen3", provider="offline",
                    mode="roundtable", instruction=None, status="ok", content="Hello.",
                    credits="0.5", usage={}, error=None, plan_fallback=None)
    step.update(changes)  # type: ignore[typeddict-item]
    return step


def test_live_terminal_streams_the_running_step_then_prints_it_once(cli: Driver) -> None:
    make_room(cli, "roundtable")
    events = [TurnEvent.from_dict(raw) for raw in chat_events(cli, "Launch", "Hello there")]
    buffer = io.StringIO()
    sink = PanelSink(terminal(buffer))
    assert sink.live
    with sink:
        for event in events:
            sink.add(event)
            sink.refresh()  # the redraw ticker, once per event here
    screen = buffer.getvalue()

    assert "thinking…" in screen or "writing…" in screen  # the spinner of the live region
    assert "running…" in screen
    assert screen.count("✓ ok · ") == 2  # each finished step printed once, for good
    assert "✓ completed · 2 steps ok, 0 failed" in screen
    assert screen.index("Ada (@Ada) · roundtable worker") < screen.rindex("Bob (@Bob) · roundtable")


def test_a_plan_fallback_is_visible_with_its_reasons() -> None:
    fallback = {"reason": "The manager's plan was invalid twice.",
                "errors": ["'steps' must be a non-empty list."]}
    text = rendered(a_step(
        kind="plan", mode="orchestrator", agent_id=None, agent_name="Manager", handle=None,
        model_alias="deepseek",
        content="Plan fallback — every agent answers in roster order. The manager's plan was "
                "invalid twice.\n1. @Ada: Answer the user's message from your role.",
        plan_fallback=fallback))
    assert "Manager · orchestrator plan · deepseek" in text
    assert "Plan fallback — every agent answers in roster order." in text
    assert "· 'steps' must be a non-empty list." in text


def test_a_failed_step_shows_its_reason_in_full_and_its_code_in_the_footer() -> None:
    message = "openai-compatible: ConnectError: All connection attempts failed " * 2
    text = rendered(a_step(status="failed", content="", credits="0",
                           error={"code": "provider_unreachable", "message": message.strip()}))
    flat = " ".join(text.split())
    assert f"✗ provider_unreachable: {message.strip()}" in flat.replace("│ ", "")
    assert "✗ failed: provider_unreachable · 0 credits" in text


def test_a_long_running_answer_shows_only_its_newest_lines_live() -> None:
    content = "\n".join(f"line {n}" for n in range(1, 51))
    live = rendered(a_step(status="running", content=content), tail_lines=5)
    assert "line 50" in live and "line 46" in live and "line 45" not in live
    assert "…" in live and "writing…" in live
    full = rendered(a_step(status="running", content=content))  # turns show: everything
    assert "│ line 1 " in full
    assert "line 50" in full


def test_a_worker_shows_the_managers_task() -> None:
    text = rendered(a_step(instruction="Estimate the budget."))
    assert "Task from the manager: Estimate the budget." in text
