"""The offline chat model, fed the prompts the engine really sends."""

from __future__ import annotations

import json
from collections.abc import Sequence

import anyio
import pytest

from pantheon_adapters.llm.offline import OfflineChatModel
from pantheon_core.domain.agents import ModelAlias, ToolPermissions
from pantheon_core.domain.routing import RoutingPlan, fallback_plan, parse_plan
from pantheon_core.domain.turns import AgentSnapshot
from pantheon_core.engine import prompts
from pantheon_core.engine.context import Answer, ConversationMemory, build_messages
from pantheon_core.ids import AgentId
from pantheon_core.ports.chat_model import (
    CallFinished,
    ChatChunk,
    ChatMessage,
    ChatRequest,
    Purpose,
    TextDelta,
)

ROSTER = (
    AgentSnapshot(AgentId("ag-ada"), "Ada", ModelAlias.QWEN,
                  "You are a financial analyst who reads budgets and forecasts.",
                  ToolPermissions(web_search=False, files=True), 0),
    AgentSnapshot(AgentId("ag-lex"), "Lex", ModelAlias.LLAMA,
                  "A lawyer focused on contracts and legal risk.", ToolPermissions(), 1),
    AgentSnapshot(AgentId("ag-mia"), "Mia", ModelAlias.DEEPSEEK,
                  "Marketing strategist for product launches.",
                  ToolPermissions(web_search=True, files=True), 2),
)
MESSAGES = (
    "hi",
    "Review the contract and tell me the legal risks.",
    "How should we price and market the launch of our new budgeting app for students?",
    "Please read the attached pdf " + "and explain every clause in plain words " * 8,
)


def _messages(system: str, user: str, *, earlier: Sequence[Answer] = ()) -> tuple[
        ChatMessage, ...]:
    return build_messages(system=system, memory=ConversationMemory.empty(), user_message=user,
                          budget=16_000, earlier=earlier)


async def _run(request: ChatRequest, *, delay: float = 0.0) -> list[ChatChunk]:
    return [chunk async for chunk in OfflineChatModel(word_delay_s=delay).stream(request)]


def _text(chunks: Sequence[ChatChunk]) -> str:
    return "".join(c.text for c in chunks if isinstance(c, TextDelta))


def _finished(chunks: Sequence[ChatChunk]) -> CallFinished:
    assert isinstance(chunks[-1], CallFinished)
    assert not any(isinstance(c, CallFinished) for c in chunks[:-1])
    return chunks[-1]


async def _plan(user: str, *, roster: Sequence[AgentSnapshot] = ROSTER) -> RoutingPlan:
    request = ChatRequest("deepseek/deepseek-chat", _messages(prompts.plan_system(roster), user),
                          "plan", json_output=True)
    plan = parse_plan(_text(await _run(request)), roster)
    assert isinstance(plan, RoutingPlan), plan
    return plan


def _worker_request(agent: AgentSnapshot, user: str, *, earlier: Sequence[Answer] = (),
                    purpose: Purpose = "worker") -> ChatRequest:
    system = (prompts.direct_system(agent) if purpose == "direct"
              else prompts.worker_system(agent, ROSTER))
    return ChatRequest("qwen/qwen-2.5", _messages(system, user, earlier=earlier), purpose)


@pytest.mark.parametrize("user", MESSAGES)
async def test_plan_is_valid_for_the_real_plan_prompt(user: str) -> None:
    plan = await _plan(user)

    ids = [s.agent_id for s in plan.steps]
    assert 1 <= len(ids) <= 3
    assert ids == [a.agent_id for a in ROSTER if a.agent_id in ids]  # roster order
    assert plan.synthesis_brief


async def test_plan_routes_by_role_words() -> None:
    plan = await _plan("Review the contract and tell me the legal risks.")

    assert [s.agent_id for s in plan.steps] == ["ag-lex"]
    assert "lawyer" in plan.steps[0].instruction


async def test_plan_with_no_overlap_picks_the_first_agent() -> None:
    plan = await _plan("hi")

    assert [s.agent_id for s in plan.steps] == ["ag-ada"]


async def test_plan_reads_files_only_for_agents_with_the_permission() -> None:
    plan = await _plan("Read the budget pdf and plan the marketing of the product launch.")

    assert {s.agent_id: s.read_files for s in plan.steps} == {"ag-ada": True, "ag-mia": True}
    plain = await _plan("Plan the marketing of the product launch within budget.")
    assert not any(s.read_files for s in plain.steps)


async def test_plan_answers_a_repair_request_with_a_valid_plan() -> None:
    messages = (*_messages(prompts.plan_system(ROSTER), "What are the legal risks?"),
                ChatMessage("assistant", "not json"),
                ChatMessage("user", prompts.plan_repair(["The answer is not valid JSON."])))
    text = _text(await _run(ChatRequest("m", messages, "plan", json_output=True)))

    plan = parse_plan(text, ROSTER)
    assert isinstance(plan, RoutingPlan)
    assert [s.agent_id for s in plan.steps] == ["ag-lex"]


async def test_plan_without_a_readable_roster_is_the_empty_plan() -> None:
    messages = (ChatMessage("system", "Roster (JSON):\n[{broken"), ChatMessage("user", "hi"))
    text = _text(await _run(ChatRequest("m", messages, "plan", json_output=True)))

    assert json.loads(text) == {"steps": [], "synthesis_brief": ""}


@pytest.mark.parametrize("user", MESSAGES)
@pytest.mark.parametrize("purpose", ["worker", "direct"])
async def test_agent_answers_are_labelled_in_voice_and_40_to_90_words(
        user: str, purpose: Purpose) -> None:
    for agent in ROSTER:
        text = _text(await _run(_worker_request(agent, user, purpose=purpose)))

        assert text.startswith("[offline model] ")
        assert agent.name in text
        assert 40 <= len(text.split()) <= 90, text


async def test_the_same_request_gets_the_same_answer_and_others_differ() -> None:
    request = _worker_request(ROSTER[0], MESSAGES[2])

    first, second = await _run(request), await _run(request)
    other = await _run(_worker_request(ROSTER[1], MESSAGES[2]))

    assert first == second
    assert _text(other) != _text(first)


async def test_later_agents_build_on_earlier_answers_without_addressing_them() -> None:
    earlier = [Answer("Ada", _text(await _run(_worker_request(ROSTER[0], MESSAGES[1]))))]
    text = _text(await _run(_worker_request(ROSTER[1], MESSAGES[1], earlier=earlier)))

    assert "Building on the answers already given" in text
    assert "Ada" not in text
    assert 40 <= len(text.split()) <= 90


async def test_synthesis_names_every_agent_that_answered() -> None:
    earlier = [Answer(a.name, _text(await _run(_worker_request(a, MESSAGES[2]))))
               for a in ROSTER]
    messages = _messages(prompts.synthesis_system(fallback_plan(ROSTER)), MESSAGES[2],
                         earlier=earlier)
    text = _text(await _run(ChatRequest("m", messages, "synthesis")))

    assert text.startswith("[offline model] Synthesis: ")
    assert all(a.name in text for a in ROSTER)


async def test_summary_starts_with_the_conversation() -> None:
    body = "Earlier summary:\nold\n\nConversation to fold in:\nUser: " + "plan a trip " * 40
    messages = (ChatMessage("system", prompts.SUMMARY_SYSTEM), ChatMessage("user", body))
    text = _text(await _run(ChatRequest("m", messages, "summary", max_tokens=400)))

    assert text.startswith("[offline model] Summary: User: plan a trip")
    assert len(text.split()) <= 65


async def test_streams_word_by_word_then_one_call_finished_with_usage() -> None:
    request = _worker_request(ROSTER[2], MESSAGES[2])

    chunks = await _run(request)
    finished = _finished(chunks)

    deltas = [c for c in chunks if isinstance(c, TextDelta)]
    words = len(_text(chunks).split())
    assert len(deltas) == words
    assert finished.provider == "offline"
    assert finished.model == "offline/qwen/qwen-2.5"
    assert finished.finish_reason == "stop"
    assert (finished.generation_id or "").startswith("offline-")
    assert finished.usage.completion_tokens == words * 4 // 3
    assert finished.usage.prompt_tokens == sum(len(m.content) // 4 + 4
                                               for m in request.messages)
    assert finished.usage.cached_tokens == 0
    assert finished.usage.cost_usd == 0


async def test_max_tokens_cuts_the_answer() -> None:
    request = ChatRequest("m", _worker_request(ROSTER[0], MESSAGES[2]).messages, "worker",
                          max_tokens=8)

    chunks = await _run(request)

    assert len(_text(chunks).split()) == 6
    assert _finished(chunks).finish_reason == "length"
    assert _finished(chunks).usage.completion_tokens <= 8


async def test_a_word_delay_spreads_the_deltas_over_time() -> None:
    stamps: list[float] = []
    kinds: list[type] = []
    async for chunk in OfflineChatModel(word_delay_s=0.001).stream(
            _worker_request(ROSTER[0], MESSAGES[0])):
        stamps.append(anyio.current_time())
        kinds.append(type(chunk))

    assert kinds.count(TextDelta) > 20
    assert kinds[-1] is CallFinished
    assert stamps == sorted(stamps)
    assert stamps[-1] > stamps[0]
