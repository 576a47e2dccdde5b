"""The orchestrator's routing plan (FR-MODE-003, AT-005), validated against the roster snapshot.

The manager answers with JSON::

    {"steps": [{"agent_id": "…", "instruction": "…", "read_files": false}, …],
     "synthesis_brief": "…"}

:func:`parse_plan` returns a plan or the list of everything wrong with the answer
(fed back to the manager once as a repair prompt). :func:`fallback_plan` is what
runs when the repair fails too: every agent, in position order — visibly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pantheon_core.domain.agents import name_key
from pantheon_core.domain.turns import AgentSnapshot
from pantheon_core.ids import AgentId

MAX_INSTRUCTION = 2000
MAX_BRIEF = 2000
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PlannedStep:
    agent_id: AgentId
    instruction: str
    read_files: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"agent_id": self.agent_id, "instruction": self.instruction,
                "read_files": self.read_files}


@dataclass(frozen=True, slots=True)
class RoutingPlan:
    steps: tuple[PlannedStep, ...]
    synthesis_brief: str
    corrections: tuple[str, ...] = ()  # what validation changed, shown with the plan

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [s.to_dict() for s in self.steps],
                "synthesis_brief": self.synthesis_brief, "corrections": list(self.corrections)}


@dataclass(frozen=True, slots=True)
class PlanRejected:
    errors: tuple[str, ...]


def parse_plan(text: str, roster: Sequence[AgentSnapshot]) -> RoutingPlan | PlanRejected:
    """The manager's answer as a plan, or every reason it is not one."""
    try:
        raw = json.loads(_FENCE.sub("", text.strip()))
    except json.JSONDecodeError as exc:
        return PlanRejected((f"The answer is not valid JSON ({exc.msg} at position {exc.pos}).",))
    if not isinstance(raw, dict):
        return PlanRejected(("The answer must be a JSON object with 'steps' and "
                             "'synthesis_brief'.",))
    errors: list[str] = []
    corrections: list[str] = []
    steps = _steps(raw.get("steps"), roster, errors, corrections)
    brief = raw.get("synthesis_brief", "")
    if not isinstance(brief, str):
        errors.append("'synthesis_brief' must be a string.")
        brief = ""
    if errors:
        return PlanRejected(tuple(errors))
    return RoutingPlan(steps=tuple(steps), synthesis_brief=brief.strip()[:MAX_BRIEF],
                       corrections=tuple(corrections))


def _steps(raw: Any, roster: Sequence[AgentSnapshot], errors: list[str],
           corrections: list[str]) -> list[PlannedStep]:
    if not isinstance(raw, list) or not raw:
        errors.append("'steps' must be a non-empty list.")
        return []
    by_id = {a.agent_id: a for a in roster}
    by_name = {name_key(a.name): a for a in roster}
    seen: set[AgentId] = set()
    steps: list[PlannedStep] = []
    for i, item in enumerate(raw):
        where = f"steps[{i}]"
        if not isinstance(item, dict):
            errors.append(f"{where} must be an object.")
            continue
        ref = str(item.get("agent_id", ""))
        agent = by_id.get(AgentId(ref)) or by_name.get(name_key(ref.lstrip("@")))
        instruction = item.get("instruction")
        read_files = item.get("read_files", False)
        if agent is None:
            valid = ", ".join(f"{a.agent_id} ({a.name})" for a in roster)
            errors.append(f"{where}.agent_id {ref!r} is not in the roster; use one of: {valid}.")
        elif agent.agent_id in seen:
            errors.append(f"{where}: agent {agent.name} appears twice; give each agent one step.")
        if not isinstance(instruction, str) or not instruction.strip():
            errors.append(f"{where}.instruction must be a non-empty string.")
        if not isinstance(read_files, bool):
            errors.append(f"{where}.read_files must be true or false.")
        elif read_files and agent is not None and not agent.tools.files:
            corrections.append(f"{agent.name} has no file permission: read_files was set to "
                               "false (FR-TOOL-006).")
        if agent is not None and isinstance(instruction, str) and instruction.strip() \
                and isinstance(read_files, bool):
            seen.add(agent.agent_id)
            steps.append(PlannedStep(agent.agent_id, instruction.strip()[:MAX_INSTRUCTION],
                                     read_files and agent.tools.files))
    return steps


def fallback_plan(roster: Sequence[AgentSnapshot]) -> RoutingPlan:
    """Every agent, in position order, answering the user's message directly (agents with
    file permission may read the files)."""
    ordered = sorted(roster, key=lambda a: a.position)
    return RoutingPlan(
        steps=tuple(PlannedStep(a.agent_id, "Answer the user's message from your role.",
                                a.tools.files) for a in ordered),
        synthesis_brief="Combine the answers into one clear reply to the user.",
    )
