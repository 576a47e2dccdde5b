"""The turn graph: nodes and the edges they open.

    manual / roundtable   Worker(a1) → Worker(a2) → …              (tag order / position order)
    direct                Direct(agent)
    orchestrator          Plan → Worker(per plan, in plan order) → … → Synthesis

A node runs one step and returns the nodes that follow it; the runner's loop
walks them in order. Workers see the earlier answers of the same turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pantheon_core.domain.modes import TurnMode
from pantheon_core.domain.routing import PlanRejected, RoutingPlan, fallback_plan, parse_plan
from pantheon_core.domain.steps import MANAGER_NAME, StepKind
from pantheon_core.domain.turns import AgentSnapshot, Turn
from pantheon_core.engine import prompts
from pantheon_core.engine.context import CHARS_PER_TOKEN, build_messages
from pantheon_core.engine.memory import MemoryKeeper
from pantheon_core.engine.steps import StepRunner
from pantheon_core.ports.chat_model import ChatMessage, ProviderError

PLAN_MAX_TOKENS = 800


class Node(Protocol):
    async def run(self, runner: StepRunner, memory: MemoryKeeper) -> Sequence[Node]: ...


def _error(error: ProviderError | None) -> tuple[str, str] | None:
    return None if error is None else (error.code, error.message)


@dataclass(frozen=True, slots=True)
class AgentNode:
    """One agent answers: a worker step in a room, or the step of a direct chat."""

    agent: AgentSnapshot
    kind: StepKind = StepKind.WORKER
    instruction: str | None = None
    read_files: bool = True  # orchestrator: whether the plan directs this worker to read files

    async def run(self, runner: StepRunner, memory: MemoryKeeper) -> Sequence[Node]:
        agent, turn = self.agent, runner.turn
        step = await runner.open(self.kind, alias=agent.model_alias, agent_id=agent.agent_id,
                                 agent_name=agent.name, instruction=self.instruction)
        if runner.toolkit is not None:
            step.tools = await runner.toolkit.for_agent(
                agent, read_files=self.read_files,
                budget_chars=runner.budget(agent.model_alias) * CHARS_PER_TOKEN // 2)
        system = (prompts.direct_system(agent) if self.kind is StepKind.DIRECT else
                  prompts.worker_system(agent, turn.roster, instruction=self.instruction))
        note = step.tools.context_note() if step.tools is not None else None
        messages = build_messages(system=system + (f"\n\n{note}" if note else ""),
                                  memory=await memory.for_step(step),
                                  user_message=turn.message, earlier=list(runner.answers),
                                  budget=runner.budget(agent.model_alias))
        result = await runner.converse(
            step, messages, purpose="direct" if self.kind is StepKind.DIRECT else "worker")
        await runner.close(step, content=result.text, error=_error(result.error))
        return ()


@dataclass(frozen=True, slots=True)
class PlanNode:
    """The manager routes the turn: a validated plan, one repair, then a visible fallback."""

    async def run(self, runner: StepRunner, memory: MemoryKeeper) -> Sequence[Node]:
        turn, alias = runner.turn, runner.manager_alias
        step = await runner.open(StepKind.PLAN, alias=alias, agent_id=None,
                                 agent_name=MANAGER_NAME)
        messages = list(build_messages(system=prompts.plan_system(turn.roster),
                                       memory=await memory.for_step(step),
                                       user_message=turn.message, budget=runner.budget(alias)))
        outcome: RoutingPlan | PlanRejected = PlanRejected(())
        error: tuple[str, str] | None = None
        for attempt in range(2):
            result = await runner.call(step, messages, purpose="plan", stream=False,
                                       json_output=True, max_tokens=PLAN_MAX_TOKENS)
            error = _error(result.error)
            if error is not None:
                break
            outcome = parse_plan(result.text, turn.roster)
            if isinstance(outcome, RoutingPlan) or attempt == 1:
                break
            messages += [ChatMessage("assistant", result.text),
                         ChatMessage("user", prompts.plan_repair(outcome.errors))]
        plan, data = _settle(outcome, error, turn)
        await runner.close(step, content=render_plan(plan, turn, data), error=error, data=data,
                           answer=False)
        by_id = {a.agent_id: a for a in turn.roster}
        workers: list[Node] = [AgentNode(by_id[s.agent_id], instruction=s.instruction,
                                         read_files=s.read_files) for s in plan.steps]
        return [*workers, SynthesisNode(plan)]


def _settle(outcome: RoutingPlan | PlanRejected, error: tuple[str, str] | None,
            turn: Turn) -> tuple[RoutingPlan, dict[str, object]]:
    if isinstance(outcome, RoutingPlan) and error is None:
        return outcome, {"plan": outcome.to_dict(), "plan_fallback": None,
                         "plan_corrections": list(outcome.corrections)}
    plan = fallback_plan(turn.roster)
    reason = ("The manager model failed: " + error[1]) if error else \
        "The manager's plan was invalid twice."
    errors = [] if isinstance(outcome, RoutingPlan) else list(outcome.errors)
    return plan, {"plan": plan.to_dict(),
                  "plan_fallback": {"reason": reason, "errors": errors}}


def render_plan(plan: RoutingPlan, turn: Turn, data: dict[str, object]) -> str:
    names = {a.agent_id: a.name for a in turn.roster}
    lines = [f"{i}. @{names[s.agent_id]}: {s.instruction}"
             + (" [may read files]" if s.read_files else "") for i, s in enumerate(plan.steps, 1)]
    fallback = data.get("plan_fallback")
    head = "Plan:" if not fallback else (
        "Plan fallback — every agent answers in roster order. "
        f"{fallback['reason'] if isinstance(fallback, dict) else ''}")
    notes = [f"Corrected: {c}" for c in plan.corrections]
    return "\n".join([head, *lines, *notes])


@dataclass(frozen=True, slots=True)
class SynthesisNode:
    plan: RoutingPlan

    async def run(self, runner: StepRunner, memory: MemoryKeeper) -> Sequence[Node]:
        turn, alias = runner.turn, runner.manager_alias
        step = await runner.open(StepKind.SYNTHESIS, alias=alias, agent_id=None,
                                 agent_name=MANAGER_NAME)
        if not runner.answers:
            await runner.close(step, content="", error=(
                "nothing_to_synthesize", "No agent produced an answer to combine."))
            return ()
        messages = build_messages(system=prompts.synthesis_system(self.plan),
                                  memory=await memory.for_step(step),
                                  user_message=turn.message, earlier=list(runner.answers),
                                  budget=runner.budget(alias))
        result = await runner.call(step, messages, purpose="synthesis")
        await runner.close(step, content=result.text, error=_error(result.error))
        return ()


def initial_nodes(turn: Turn) -> list[Node]:
    by_id = {a.agent_id: a for a in turn.roster}
    if turn.mode is TurnMode.ORCHESTRATOR:
        return [PlanNode()]
    if turn.mode is TurnMode.DIRECT:
        return [AgentNode(turn.roster[0], kind=StepKind.DIRECT)]
    return [AgentNode(by_id[agent_id]) for agent_id in turn.selected]
