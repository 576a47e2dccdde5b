"""The offline model as the orchestrator's manager: a valid routing plan, by word overlap.

It reads the roster from the plan prompt's "Roster (JSON):" line and routes the user's
message to the agents whose name and role share the most words with it (one to three,
ties broken by roster order, listed in roster order). An unreadable roster gets an
empty plan, which the engine rejects and then repairs or falls back from, visibly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pantheon_adapters.llm.offline_text import listing, trim, user_request
from pantheon_core.ports.chat_model import ChatMessage

ROSTER_MARKER = "Roster (JSON):\n"
MAX_AGENTS = 3
EMPTY_PLAN = '{"steps": [], "synthesis_brief": ""}'

_YOU_ARE = re.compile(r"^(you are|you're)\s+", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")
_FILES = re.compile(r"\b(files?|documents?|docs?|docx|pdfs?|csvs?|txt|attach\w*|uploads?|"
                    r"uploaded|spreadsheets?)\b", re.IGNORECASE)
_STOP_WORDS = (
    "the and for with you your are that this what how from about into can will should would "
    "could please who whom help answer answers user users agent agents role our their them "
    "they have has had was were been being any all not but its his her she him one two "
    "give make more most some such than then there these those when where which while why "
    "also very just like well good best use using used need needs want wants")
_STOP = frozenset(_STOP_WORDS.split())


@dataclass(frozen=True, slots=True)
class _Member:
    agent_id: str
    name: str
    role: str
    files: bool


def _stem(word: str) -> str:
    # Six-letter stems without a plural "s" make "finance" meet "financial", "risks" meet
    # "risk" and "markets" meet "marketing": crude, deterministic and good enough.
    return (word[:-1] if len(word) > 4 and word.endswith("s") else word)[:6]


def _stems(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in _STOP}


def _roster(messages: Sequence[ChatMessage]) -> list[_Member]:
    for message in messages:
        if message.role == "system" and ROSTER_MARKER in message.content:
            line = message.content.split(ROSTER_MARKER, 1)[1].split("\n", 1)[0]
            try:
                raw = json.loads(line)
            except json.JSONDecodeError:
                return []
            return _members(raw)
    return []


def _members(raw: Any) -> list[_Member]:
    if not isinstance(raw, list):
        return []
    members = []
    for item in raw:
        if isinstance(item, Mapping) and item.get("agent_id") and item.get("name"):
            tools = item.get("tools") or []
            members.append(_Member(str(item["agent_id"]), str(item["name"]),
                                   str(item.get("role") or ""),
                                   isinstance(tools, list) and "files" in tools))
    return members


def _chosen(roster: Sequence[_Member], message: str) -> list[_Member]:
    wanted = _stems(message)
    lowered = message.lower()
    scores = []
    for index, member in enumerate(roster):
        score = len(wanted & _stems(f"{member.name} {member.role}"))
        if f"@{member.name.lower()}" in lowered:
            score += 10  # a tag is the clearest signal of whom the user wants
        scores.append((score, index))
    best = sorted((s for s in scores if s[0] > 0), key=lambda s: (-s[0], s[1]))[:MAX_AGENTS]
    indices = sorted(i for _, i in best) or [0]
    return [roster[i] for i in indices]


def _instruction(member: _Member) -> str:
    first_line = _YOU_ARE.sub("", member.role.strip().split("\n", 1)[0])
    role = trim(first_line, 12).rstrip(" .") or "a generalist"
    return (f"Answer the user's request from your role ({role}) with two or three "
            "concrete points.")


def plan_answer(messages: Sequence[ChatMessage]) -> str:
    """A routing plan as JSON text; the empty plan when the roster cannot be read."""
    roster = _roster(messages)
    if not roster:
        return EMPTY_PLAN
    message = user_request(messages)
    chosen = _chosen(roster, message)
    wants_files = bool(_FILES.search(message))
    steps = [{"agent_id": m.agent_id, "instruction": _instruction(m),
              "read_files": wants_files and m.files} for m in chosen]
    names = listing([m.name for m in chosen])
    brief = (f"Combine the answers of {names} into one reply, noting where they agree "
             "and where they differ.")
    return json.dumps({"steps": steps, "synthesis_brief": brief}, ensure_ascii=False)
