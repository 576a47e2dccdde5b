"""What the offline model says: worker, direct, synthesis and summary answers.

Everything here is a pure function of the request's messages, so the same request
always gets the same answer. The answers read the prompts the engine really sends
(``pantheon_core.engine.prompts`` and ``context.build_messages``): the agent's name
from "You are <Name>.", the manager's instruction, the "Answers so far in this turn:"
block, and the user's message. Every answer starts with :data:`LABEL`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from pantheon_core.ports.chat_model import ChatMessage

LABEL = "[offline model] "
REPAIR_PREFIX = "That plan cannot be used"
EARLIER_PREFIX = "Answers so far in this turn:"
REQUEST_WORDS = 20
INSTRUCTION_WORDS = 8
SUMMARY_WORDS = 60
MIN_WORDS = 40
ROOM_FOR_THIRD_POINT = 55

# Each point is 11 to 14 words, so two or three of them keep an answer within 40-90 words.
POINTS = (
    "Start with the outcome you want, then work backwards to the first concrete step.",
    "Separate what is known from what is assumed, and test the assumptions first.",
    "Keep the scope small enough to finish, then widen it once it works.",
    "Write the trade-offs down, so the choice can be revisited later with evidence.",
    "Look for the simplest option that meets the need before reaching for anything clever.",
    "Check the risks early: what would make this fail, and how would you notice?",
    "Ask who is affected by the result and what each of them needs from it.",
    "Measure before and after, so the improvement is a fact rather than a feeling.",
    "Reuse what already exists where you can; new work should earn its place.",
    "Set a deadline and a definition of done, then review honestly against both.",
)

_NAME = re.compile(r"^You are (?P<name>[^\n]+?)\.\s*$", re.MULTILINE)
_INSTRUCTION = re.compile(r"The room's manager asks you specifically to: (?P<text>[^\n]+)")
_HEADING = re.compile(r"^### (?P<name>[^\n]+)$", re.MULTILINE)


def words(text: str) -> list[str]:
    return text.split()


def trim(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` words (with an ellipsis if cut)."""
    parts = words(text)
    return " ".join(parts[:limit]) + (" …" if len(parts) > limit else "")


def listing(names: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + f" and {names[-1]}"


def user_request(messages: Sequence[ChatMessage]) -> str:
    """The user's latest message, skipping the engine's own plan-repair requests."""
    for message in reversed(messages):
        if message.role == "user" and not message.content.startswith(REPAIR_PREFIX):
            return message.content
    return ""


def _system(messages: Sequence[ChatMessage]) -> list[str]:
    return [m.content for m in messages if m.role == "system"]


def agent_name(messages: Sequence[ChatMessage]) -> str:
    for text in _system(messages):
        found = _NAME.search(text)
        if found and not found["name"].startswith("the manager"):
            return found["name"].strip()
    return "the assistant"


def earlier_answers(messages: Sequence[ChatMessage]) -> list[tuple[str, str]]:
    """``(name, answer)`` for each "### Name" section of the earlier-answers block."""
    for text in _system(messages):
        if text.startswith(EARLIER_PREFIX):
            parts = _HEADING.split(text[len(EARLIER_PREFIX):])
            return [(parts[i].strip(), parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]
    return []


def _ordered_points(*seed_parts: str) -> list[str]:
    seed = hashlib.sha256("\x00".join(seed_parts).encode()).digest()
    return sorted(POINTS, key=lambda p: hashlib.sha256(seed + p.encode()).digest())


def worker_answer(messages: Sequence[ChatMessage]) -> str:
    """40-90 words in the agent's voice; builds on earlier answers without addressing them."""
    name, request = agent_name(messages), user_request(messages)
    sentences = [f"{LABEL}I am {name}.", f"You asked: “{trim(request, REQUEST_WORDS)}”"]
    instruction = _INSTRUCTION.search("\n".join(_system(messages)))
    if instruction:
        sentences.append(f"As the manager asked, I focus on: "
                         f"{trim(instruction['text'], INSTRUCTION_WORDS).rstrip(' .')}.")
    if earlier_answers(messages):
        sentences.append("Building on the answers already given, I add my own angle.")
    head = " ".join(sentences)
    points = _ordered_points(name, request)
    chosen = points[:2]
    if len(words(head)) + sum(len(words(p)) + 1 for p in chosen) < ROOM_FOR_THIRD_POINT:
        chosen = points[:3]
    body = "\n".join(f"- {p}" for p in chosen)
    text = f"{head}\n{body}"
    if len(words(text)) < MIN_WORDS:
        text += "\nThat is where I would start; say more and I can go deeper."
    return text


def _main_point(answer: str) -> str:
    for line in answer.splitlines():
        if line.startswith("- "):
            return line[2:].strip()
    return trim(answer.replace(LABEL.strip(), ""), 12)


def synthesis_answer(messages: Sequence[ChatMessage]) -> str:
    """A short combination naming every agent whose answer is in the earlier-answers block."""
    answers = earlier_answers(messages)
    if not answers:
        return f"{LABEL}Synthesis: there were no answers from the agents to combine."
    names = listing([name for name, _ in answers])
    lines = [f"{LABEL}Synthesis: combining the answers of {names} to "
             f"“{trim(user_request(messages), 12)}”."]
    lines += [f"- {name}: {_main_point(answer)}" for name, answer in answers]
    lines.append("Where they agree, act on it; where they differ, weigh each point against "
                 "your own constraints.")
    return "\n".join(lines)


def summary_answer(messages: Sequence[ChatMessage]) -> str:
    """The first words of the conversation being folded in."""
    text = user_request(messages)
    marker = "Conversation to fold in:"
    if marker in text:
        text = text.split(marker, 1)[1]
    text = text.replace(LABEL.strip(), "")
    return f"{LABEL}Summary: {trim(text, SUMMARY_WORDS)}"
