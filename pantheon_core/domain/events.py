"""Turn events (FR-RT-003) and the timeline they fold into (FR-RT-004).

Every turn has a gap-free sequence ``seq = 1, 2, 3, …``. A client that replays
the events from any point, or folds all of them, ends with the same timeline as
one that watched live: :func:`fold` is that timeline, and the turn snapshot the
API serves is built with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pantheon_core.ids import StepId, TurnId


class EventType(StrEnum):
    TURN_STARTED = "turn_started"
    STEP_STARTED = "step_started"
    STEP_DELTA = "step_delta"
    TOOL_STARTED = "tool_started"
    TOOL_COMPLETED = "tool_completed"
    STEP_COMPLETED = "step_completed"
    TURN_COMPLETED = "turn_completed"
    TURN_FAILED = "turn_failed"


TERMINAL_EVENTS = frozenset({EventType.TURN_COMPLETED, EventType.TURN_FAILED})


@dataclass(frozen=True, slots=True)
class TurnEvent:
    type: EventType
    seq: int
    turn_id: TurnId
    ts: datetime
    data: Mapping[str, Any] = field(default_factory=dict)
    step_id: StepId | None = None

    @property
    def is_terminal(self) -> bool:
        return self.type in TERMINAL_EVENTS

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type.value, "seq": self.seq, "turn_id": self.turn_id,
                "step_id": self.step_id, "ts": _iso(self.ts), "data": dict(self.data)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> TurnEvent:
        return cls(type=EventType(raw["type"]), seq=int(raw["seq"]),
                   turn_id=TurnId(raw["turn_id"]), ts=datetime.fromisoformat(raw["ts"]),
                   data=dict(raw.get("data") or {}),
                   step_id=StepId(raw["step_id"]) if raw.get("step_id") else None)


def _iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


@dataclass
class StepView:
    """A step as the timeline shows it: what was started, streamed and completed so far."""

    step_id: str
    started: dict[str, Any]
    content: str = ""
    status: str = "running"
    completed: dict[str, Any] = field(default_factory=dict)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**self.started, "step_id": self.step_id, "status": self.status,
                "content": self.content, "tool_calls": self.tool_calls,
                **{k: v for k, v in self.completed.items() if k not in ("status", "content")}}

    def tool_event(self, kind: EventType, data: dict[str, Any]) -> None:
        """A tool call starts (status ``running``) or ends (its record replaces it)."""
        call = {"status": "running", **data} if kind is EventType.TOOL_STARTED else data
        for i, known in enumerate(self.tool_calls):
            if known.get("call_id") == data.get("call_id"):
                self.tool_calls[i] = {**known, **call}
                return
        self.tool_calls.append(call)


@dataclass
class Timeline:
    """The fold of a turn's events."""

    turn_id: str
    last_seq: int = 0
    status: str = "running"
    started: dict[str, Any] = field(default_factory=dict)
    steps: list[StepView] = field(default_factory=list)
    outcome: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"turn_id": self.turn_id, "status": self.status, "last_seq": self.last_seq,
                **self.started, "steps": [s.to_dict() for s in self.steps],
                "outcome": self.outcome}


def fold(turn_id: str, events: Iterable[TurnEvent]) -> Timeline:
    """The timeline after ``events`` (in seq order; duplicates by seq are ignored)."""
    timeline = Timeline(turn_id=turn_id)
    by_id: dict[str, StepView] = {}
    for event in events:
        if event.seq <= timeline.last_seq:
            continue
        timeline.last_seq = event.seq
        data = dict(event.data)
        if event.type is EventType.TURN_STARTED:
            timeline.started = data
        elif event.type is EventType.STEP_STARTED and event.step_id:
            view = StepView(step_id=event.step_id, started=data)
            by_id[event.step_id] = view
            timeline.steps.append(view)
        elif event.type is EventType.STEP_DELTA and event.step_id in by_id:
            by_id[event.step_id].content += str(data.get("text", ""))
        elif event.type in (EventType.TOOL_STARTED, EventType.TOOL_COMPLETED) \
                and event.step_id in by_id:
            by_id[event.step_id].tool_event(event.type, data)
        elif event.type is EventType.STEP_COMPLETED and event.step_id in by_id:
            view = by_id[event.step_id]
            view.status = str(data.get("status", "ok"))
            view.content = str(data.get("content", view.content))
            view.completed = data
        elif event.is_terminal:
            timeline.status = str(data.get("status", "failed"))
            timeline.outcome = data
    return timeline
