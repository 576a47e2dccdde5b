"""Steps: each agent answer, plan or synthesis as its own panel.

A step reaches the CLI two ways — folded from a turn's events (a live chat, ``turns
show``) or stored (the timeline) — and both become the one :class:`StepData` that
``--json`` prints and :func:`step_panel` draws. The panel's title says who answered
(agent, @handle), with which model (alias → provider model, via which provider) and
what kind of step it is; its body lists the step's tool calls (see
:mod:`pantheon_cli.views.tools`) above the answer; its footer says how it ended and what it
cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.spinner import Spinner
from rich.text import Text

from pantheon_cli.views.tools import ToolCallData, tool_calls_data, tools_block
from pantheon_core.domain.steps import Step

STATUS_STYLE = {"running": "blue", "ok": "green", "failed": "red"}
KIND_STYLE = {"plan": "magenta", "synthesis": "magenta", "worker": "cyan", "direct": "cyan"}


class ErrorData(TypedDict):
    code: str
    message: str


class StepData(TypedDict):
    step_id: str
    index: int
    kind: str
    agent_id: str | None
    agent_name: str
    handle: str | None  # None for the manager's plan and synthesis
    model_alias: str
    model: str
    provider: str
    mode: str | None
    instruction: str | None
    status: str
    content: str
    credits: str
    usage: dict[str, Any]
    error: ErrorData | None
    plan_fallback: dict[str, Any] | None
    tool_calls: NotRequired[list[ToolCallData]]  # always set by the builders below


def error_data(raw: Any) -> ErrorData | None:
    if not isinstance(raw, Mapping) or not raw.get("code"):
        return None
    return ErrorData(code=str(raw["code"]), message=str(raw.get("message") or ""))


def step_from_timeline(raw: Mapping[str, Any]) -> StepData:
    """A step of ``Timeline.to_dict()`` (the fold of the turn's events)."""
    agent_id = raw.get("agent_id")
    data = raw.get("data") or {}
    return StepData(
        step_id=str(raw["step_id"]), index=int(raw.get("index", 0)), kind=str(raw.get("kind", "")),
        agent_id=agent_id, agent_name=str(raw.get("agent_name", "")),
        handle=f"@{raw.get('agent_name')}" if agent_id else None,
        model_alias=str(raw.get("model_alias", "")), model=str(raw.get("model", "")),
        provider=str(raw.get("provider", "")), mode=raw.get("mode"),
        instruction=raw.get("instruction"), status=str(raw.get("status", "running")),
        content=str(raw.get("content", "")), credits=str(raw.get("credits", "0")),
        usage=dict(raw.get("usage") or {}), error=error_data(raw.get("error")),
        plan_fallback=data.get("plan_fallback") if isinstance(data, Mapping) else None,
        tool_calls=tool_calls_data(raw.get("tool_calls"),
                                   data.get("files_read", ()) if isinstance(data, Mapping)
                                   else ()),
    )


def step_from_domain(step: Step, *, mode: str | None) -> StepData:
    """A stored step (the timeline and direct history)."""
    error = (None if step.error_code is None
             else ErrorData(code=step.error_code, message=step.error_message or ""))
    return StepData(
        step_id=step.id, index=step.index, kind=step.kind.value, agent_id=step.agent_id,
        agent_name=step.agent_name, handle=f"@{step.agent_name}" if step.agent_id else None,
        model_alias=step.model_alias.value, model=step.model, provider=step.provider, mode=mode,
        instruction=step.instruction, status=step.status.value, content=step.content,
        credits=str(step.usage.credits), usage=step.usage.to_dict(), error=error,
        plan_fallback=step.data.get("plan_fallback"),
        tool_calls=tool_calls_data(step.data.get("tool_calls"), step.data.get("files_read", ())),
    )


def step_title(step: StepData) -> Text:
    """``Ada (@Ada) · roundtable worker · qwen → qwen/qwen3-235b via offline``: who, in
    which mode and what kind of step, which model (what a narrow terminal cuts is last)."""
    who = (Text.assemble((step["agent_name"], "bold cyan"), f" ({step['handle']})")
           if step["handle"] else Text(step["agent_name"], style="bold magenta"))
    model = Text.assemble((step["model_alias"], "bold"), (f" → {step['model']}", ""))
    if step["provider"] and not step["model"].startswith(f"{step['provider']}/"):
        model.append(f" via {step['provider']}", style="dim")
    label = step["kind"] if step["mode"] in (None, step["kind"]) else \
        f"{step['mode']} {step['kind']}"
    kind = Text(label, style=KIND_STYLE.get(step["kind"], ""))
    return Text(" · ").join([who, kind, model])


def step_footer(step: StepData) -> Text:
    """``✓ ok · 0.006447 credits`` or ``✗ failed: code · 0 credits`` (the reason is in
    the body, where it is never cut)."""
    if step["status"] == "running":
        return Text("running…", style="blue")
    if step["status"] == "ok":
        head = Text("✓ ok", style="green")
    else:
        code = f": {step['error']['code']}" if step["error"] else ""
        head = Text(f"✗ failed{code}", style="red")
    return Text.assemble(head, f" · {step['credits']} credits")


def step_body(step: StepData, *, tools: bool = True) -> Text:
    """The manager's task, the tool calls (unless ``tools`` is off: a chat has already
    printed them as they happened), the answer and why it failed."""
    body = Text()
    if step["instruction"] and step["kind"] == "worker":
        body.append(f"Task from the manager: {step['instruction']}\n\n", style="dim italic")
    calls = step.get("tool_calls") or []
    if tools and calls:
        body.append_text(tools_block(calls))
        if step["content"] or step["status"] == "ok":
            body.append("\n\n")
    fallback = step["plan_fallback"]
    if step["content"]:
        body.append(step["content"], style="yellow" if fallback else "")
    elif step["status"] == "ok":
        body.append("(no output)", style="dim")
    if fallback:
        for problem in fallback.get("errors") or ():
            body.append(f"\n  · {problem}", style="dim")
    if step["status"] == "failed":
        error = step["error"]
        reason = f"{error['code']}: {error['message']}" if error else "no reason given"
        body.append(("\n" if body else "") + f"✗ {reason}", style="red")
    return body


def step_panel(step: StepData, *, tail_lines: int | None = None, tools: bool = True) -> Panel:
    """One step as a panel. A running step gets a spinner; ``tail_lines`` (while streaming
    live) keeps only its newest lines, so a long answer never pushes its end off screen.
    ``tools=False`` leaves the tool calls out of the body."""
    text = step_body(step, tools=tools)
    body: RenderableType = text
    if step["status"] == "running":
        waiting = "writing…" if step["content"] else (
            "planning…" if step["kind"] == "plan" else "thinking…")
        spinner = Spinner("dots", text=Text(waiting, style="dim"))
        body = Group(Tail(text, tail_lines) if tail_lines else text, spinner) \
            if text.plain else spinner
    border = "yellow" if step["plan_fallback"] else STATUS_STYLE.get(step["status"], "")
    return Panel(body, title=step_title(step), title_align="left", subtitle=step_footer(step),
                 subtitle_align="left", border_style=border)


def steps_panels(steps: Sequence[StepData]) -> list[RenderableType]:
    return [step_panel(step) for step in steps]


class Tail:
    """The last ``lines`` lines of ``text`` as wrapped at the available width."""

    def __init__(self, text: Text, lines: int) -> None:
        self.text = text
        self.lines = max(1, lines)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        wrapped = self.text.wrap(console, options.max_width)
        kept = list(wrapped)[-self.lines:]
        if len(wrapped) > len(kept):
            yield Text("…", style="dim")
        yield Text("\n").join(kept)
