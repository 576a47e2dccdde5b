"""Running one step: open it, make its LLM call(s), close it with its outcome and usage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from pantheon_core.domain.agents import ModelAlias
from pantheon_core.domain.events import EventType
from pantheon_core.domain.pricing import PricingVersion
from pantheon_core.domain.steps import Step, StepKind, StepStatus, StepUsage
from pantheon_core.domain.tools import summarize_arguments
from pantheon_core.domain.turns import Turn, TurnStatus
from pantheon_core.domain.usage import LlmCall
from pantheon_core.engine.calls import CallResult, CallScope, ModelCaller
from pantheon_core.engine.context import Answer
from pantheon_core.engine.recorder import TurnRecorder
from pantheon_core.engine.tools import StepTools, Toolkit
from pantheon_core.ids import AgentId, StepId, ToolCallId, new_id
from pantheon_core.ports.chat_model import ChatMessage, ChatRequest, Purpose, ToolCall, ToolSpec
from pantheon_core.usecases.deps import EnginePolicy, ToolPolicy


@dataclass
class OpenStep:
    step: Step
    calls: list[LlmCall] = field(default_factory=list)
    streamed: list[str] = field(default_factory=list)  # the text so far, kept if interrupted
    tools: StepTools | None = None

    @property
    def text_so_far(self) -> str:
        return "".join(self.streamed)


@dataclass
class StepRunner:
    """What every node needs to run steps of one turn."""

    turn: Turn
    pricing: PricingVersion
    manager_alias: ModelAlias
    recorder: TurnRecorder
    caller: ModelCaller
    policy: EnginePolicy
    provider: str
    toolkit: Toolkit | None = None
    tool_policy: ToolPolicy = field(default_factory=ToolPolicy)
    finished: list[Step] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    current: OpenStep | None = None

    async def open(self, kind: StepKind, *, alias: ModelAlias, agent_id: AgentId | None,
                   agent_name: str, instruction: str | None = None,
                   data: dict[str, Any] | None = None) -> OpenStep:
        price = self.pricing.price_of(alias)
        step = Step(id=StepId(new_id()), turn_id=self.turn.id, index=len(self.finished),
                    kind=kind, agent_id=agent_id, agent_name=agent_name, model_alias=alias,
                    model=self.caller.chat.model_label(
                        self.policy.model_for(alias.value, price.provider_model_id)),
                    provider=self.provider,
                    status=StepStatus.RUNNING, started_at=self.recorder.stamp(),
                    instruction=instruction, data=data or {})
        self.current = OpenStep(step)
        await self.recorder.step_started(step, {
            "step_id": step.id, "index": step.index, "kind": kind.value,
            "agent_id": agent_id, "agent_name": agent_name, "model_alias": alias.value,
            "model": step.model, "provider": self.provider, "instruction": instruction,
            "mode": self.turn.mode.value,
        })
        return self.current

    async def call(self, open_step: OpenStep, messages: Sequence[ChatMessage], *,
                   purpose: Purpose, alias: ModelAlias | None = None, stream: bool = True,
                   json_output: bool = False, max_tokens: int | None = None,
                   tools: tuple[ToolSpec, ...] = ()) -> CallResult:
        step = open_step.step
        price = self.pricing.price_of(alias or step.model_alias)
        model = self.policy.model_for(price.alias.value, price.provider_model_id)
        request = ChatRequest(model=model, messages=tuple(messages), tools=tools,
                              purpose=purpose, json_output=json_output,
                              max_tokens=max_tokens or self.policy.max_output_tokens,
                              user_ref=self.turn.user_id, model_alias=price.alias.value)
        scope = CallScope(user_id=self.turn.user_id, turn_id=self.turn.id, step_id=step.id,
                          agent_id=step.agent_id, room_id=self.turn.room_id,
                          direct_session_id=self.turn.direct_session_id)

        async def on_delta(text: str) -> None:
            open_step.streamed.append(text)
            await self.recorder.delta(step.id, text)

        try:
            result = await self.caller.call(request, scope=scope, price=price,
                                            pricing=self.pricing, sink=open_step.calls,
                                            on_delta=on_delta if stream else None)
        except Exception:
            await self.recorder.release_delta()
            raise
        await self.recorder.release_delta()
        return result

    async def converse(self, open_step: OpenStep, messages: Sequence[ChatMessage], *,
                       purpose: Purpose) -> CallResult:
        """Call the model, running the tools it asks for between calls (at most
        ``max_rounds`` rounds; the last call offers no tools, so the model must answer).
        The result's text is everything the step streamed, across rounds."""
        tools, policy = open_step.tools, self.tool_policy
        history = list(messages)
        result = CallResult()
        for round_no in range(1, policy.max_rounds + 2):
            last = round_no > policy.max_rounds
            offer = tools.offered if tools is not None and not last else ()
            result = await self.call(open_step, history, purpose=purpose, tools=offer)
            if result.error is not None or not result.tool_calls:
                break
            if tools is None:
                if self.toolkit is None:
                    break
                tools = open_step.tools = self.toolkit.no_tools()
            history.append(ChatMessage("assistant", result.text,
                                       tool_calls=result.tool_calls))
            for index, call in enumerate(result.tool_calls):
                history.append(await self._tool(
                    open_step, tools, call, round_no,
                    over=last or index >= policy.max_calls_per_round))
            if last:
                break  # calls after the last round are refused; the answer is what streamed
        result.text = open_step.text_so_far
        return result

    async def _tool(self, open_step: OpenStep, tools: StepTools, call: ToolCall,
                    round_no: int, *, over: bool) -> ChatMessage:
        step_id = open_step.step.id
        call_id = ToolCallId(new_id())
        await self.recorder.emit(EventType.TOOL_STARTED, {
            "call_id": call_id, "tool": call.name[:100], "round": round_no,
            "arguments": summarize_arguments(call.arguments)}, step_id=step_id)
        if over:
            outcome = await tools.refuse(call, call_id=call_id, step_id=step_id,
                                         round_no=round_no)
        else:
            outcome = await tools.run(call, call_id=call_id, step_id=step_id,
                                      round_no=round_no)
        data = outcome.record.to_dict()
        if outcome.access is not None:
            data["file"] = outcome.access.to_dict()
        await self.recorder.emit(EventType.TOOL_COMPLETED, data, step_id=step_id)
        return ChatMessage("tool", outcome.content, name=call.name[:100],
                           tool_call_id=call.id)

    def budget(self, alias: ModelAlias) -> int:
        window = min(self.pricing.price_of(alias).context_window, self.policy.max_context_tokens)
        return max(window - self.policy.max_output_tokens, 512)

    async def close(self, open_step: OpenStep, *, content: str, error: tuple[str, str] | None,
                    data: dict[str, Any] | None = None, answer: bool = True) -> Step:
        usage = _usage(open_step.calls)
        now = self.recorder.stamp()
        step = open_step.step
        tools = open_step.tools
        if tools is not None and tools.records:
            usage = replace(usage, credits=usage.credits + tools.credits)
            data = {**(data if data is not None else step.data),
                    "tool_calls": [r.to_dict() for r in tools.records],
                    "files_read": [a.to_dict() for a in tools.accesses]}
        if error is None:
            step = step.completed(now, content=content, usage=usage, data=data)
            if answer and content:
                self.answers.append(Answer(step.agent_name, content))
        else:
            step = step.failed(now, content=content, usage=usage, code=error[0],
                               message=error[1], data=data)
        self.finished.append(step)
        self.current = None
        await self.recorder.step_finished(step, completed_data(step))
        return step


def completed_data(step: Step) -> dict[str, Any]:
    error = None if step.error_code is None else {"code": step.error_code,
                                                  "message": step.error_message}
    return {"status": step.status.value, "content": step.content, "model": step.model,
            "usage": step.usage.to_dict(),
            "credits": str(step.usage.credits), "error": error,
            "tool_calls": list(step.data.get("tool_calls", [])), "data": dict(step.data)}


def terminal_data(status: TurnStatus, steps: Sequence[Step],
                  error: tuple[str, str] | None) -> dict[str, Any]:
    """The ``data`` of a turn's terminal event (``turn_completed`` when ``error`` is None)."""
    failed = [s.id for s in steps if s.status is not StepStatus.OK]
    data: dict[str, Any] = {"status": status.value, "credits": str(total_credits(steps)),
                            "failed_steps": failed,
                            "steps": {"ok": len(steps) - len(failed), "failed": len(failed)}}
    if error is not None:
        data["error"] = {"code": error[0], "message": error[1]}
    return data


def _usage(calls: Sequence[LlmCall]) -> StepUsage:
    usage = StepUsage()
    for call in calls:
        usage = usage.plus(prompt_tokens=call.prompt_tokens,
                           completion_tokens=call.completion_tokens,
                           cached_tokens=call.cached_tokens, credits=call.credits_burned,
                           cost_usd=call.provider_cost_usd)
    return usage


def total_credits(steps: Sequence[Step]) -> Decimal:
    return sum((s.usage.credits for s in steps), Decimal(0))
