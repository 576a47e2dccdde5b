"""The prompt contracts every mode relies on.

Workers know the roster but answer the user's task themselves: the rule against
agent-to-agent chatter (FR-AGENT-006) is part of every worker and direct prompt.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pantheon_core.domain.routing import RoutingPlan
from pantheon_core.domain.turns import AgentSnapshot

NO_CHATTER_RULE = (
    "Answer the user's task yourself, directly and in your own voice. Do not address the "
    "other agents, hand work off to them, ask them questions or write lines for them: the "
    "user sees each agent's answer as a separate message."
)


def roster_note(roster: Sequence[AgentSnapshot], me: AgentSnapshot | None = None) -> str:
    lines = ["Agents in this room, in order:"]
    for agent in roster:
        role = (agent.role_prompt.splitlines() or ["no role given"])[0][:160]
        you = " (you)" if me is not None and agent.agent_id == me.agent_id else ""
        lines.append(f"- {agent.name}{you}, model {agent.model_alias.value}: {role}")
    return "\n".join(lines)


def _identity(agent: AgentSnapshot) -> str:
    role = agent.role_prompt or "You are a helpful, precise assistant."
    return f"You are {agent.name}.\n\nYour role:\n{role}"


def worker_system(agent: AgentSnapshot, roster: Sequence[AgentSnapshot], *,
                  instruction: str | None = None) -> str:
    parts = [_identity(agent), roster_note(roster, agent), NO_CHATTER_RULE]
    if instruction:
        parts.append(f"The room's manager asks you specifically to: {instruction}")
    return "\n\n".join(parts)


def direct_system(agent: AgentSnapshot) -> str:
    return "\n\n".join([_identity(agent), "You are talking one to one with the user.",
                        NO_CHATTER_RULE])


PLAN_FORMAT = (
    'Reply with JSON only, exactly this shape: {"steps": [{"agent_id": "<id from the '
    'roster>", "instruction": "<what this agent should do for the user>", "read_files": '
    'false}], "synthesis_brief": "<how to combine their answers>"}. List only agents '
    "whose role helps with this message, in the order they should answer, each at most "
    "once. read_files may be true only for agents whose tools include files."
)


def plan_system(roster: Sequence[AgentSnapshot]) -> str:
    agents = [{"agent_id": a.agent_id, "name": a.name, "model": a.model_alias.value,
               "role": a.role_prompt[:500], "tools": [t for t, on in a.tools.as_dict().items()
                                                      if on]} for a in roster]
    return "\n\n".join([
        "You are the manager of a room of AI agents. Decide which agents should answer the "
        "user's latest message, in what order, and with what instruction each; afterwards you "
        "will combine their answers.",
        "Roster (JSON):\n" + json.dumps(agents, ensure_ascii=False),
        PLAN_FORMAT,
    ])


def plan_repair(errors: Sequence[str]) -> str:
    listed = "\n".join(f"- {e}" for e in errors)
    return f"That plan cannot be used:\n{listed}\n\n{PLAN_FORMAT}"


def synthesis_system(plan: RoutingPlan) -> str:
    brief = plan.synthesis_brief or "Combine the answers into one clear reply."
    return "\n\n".join([
        "You are the manager of a room of AI agents. The agents have answered the user's "
        "message; write the final reply to the user from their answers.",
        f"Your brief: {brief}",
        "Attribute important points to the agent that made them, resolve disagreements "
        "openly, and do not invent facts the answers do not support.",
    ])


SUMMARY_SYSTEM = (
    "Summarise the conversation so far for the assistants who continue it: the user's goals, "
    "decisions, facts and open questions, in at most 250 words. Plain prose, no preamble."
)
