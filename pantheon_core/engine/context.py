"""Building each call's messages under a token budget.

Order of what goes in: the system prompt, the conversation summary, as many recent
turns as fit (newest kept first), this turn's earlier answers, the user message.
Tokens are estimated from characters (4 per token, plus a few per message): good
enough to stay inside a context window, and it needs no tokenizer download.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pantheon_core.ports.chat_model import ChatMessage

CHARS_PER_TOKEN = 4
PER_MESSAGE_TOKENS = 4


def estimate_tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + PER_MESSAGE_TOKENS


def truncate_to(text: str, tokens: int) -> str:
    limit = max(0, tokens - PER_MESSAGE_TOKENS) * CHARS_PER_TOKEN
    return text if len(text) <= limit else text[: max(0, limit - 15)] + " …[truncated]"


@dataclass(frozen=True, slots=True)
class Answer:
    """One agent's answer, as later calls see it."""

    name: str
    content: str


@dataclass(frozen=True, slots=True)
class PastTurn:
    message: str
    answers: tuple[Answer, ...]

    def as_messages(self) -> list[ChatMessage]:
        reply = "\n\n".join(f"[{a.name}] {a.content}" for a in self.answers if a.content)
        return [ChatMessage("user", self.message),
                ChatMessage("assistant", reply or "(no answer)")]

    def tokens(self) -> int:
        return sum(estimate_tokens(m.content) for m in self.as_messages())


@dataclass(frozen=True, slots=True)
class ConversationMemory:
    summary: str
    recent: tuple[PastTurn, ...]  # oldest first

    @classmethod
    def empty(cls) -> ConversationMemory:
        return cls("", ())


def earlier_answers_block(answers: Sequence[Answer]) -> str:
    return "Answers so far in this turn:\n\n" + "\n\n".join(
        f"### {a.name}\n{a.content}" for a in answers)


def build_messages(*, system: str, memory: ConversationMemory, user_message: str,
                   budget: int, earlier: Sequence[Answer] = (),
                   extra_user: str | None = None) -> tuple[ChatMessage, ...]:
    """The messages for one call, never over ``budget`` tokens (estimated)."""
    head = [ChatMessage("system", system)]
    if memory.summary:
        head.append(ChatMessage("system", "Summary of the earlier conversation:\n"
                                + memory.summary))
    tail: list[ChatMessage] = []
    if earlier:
        tail.append(ChatMessage("system", earlier_answers_block(earlier)))
    tail.append(ChatMessage("user", user_message))
    if extra_user:
        tail.append(ChatMessage("user", extra_user))
    used = sum(estimate_tokens(m.content) for m in head + tail)
    if used > budget:  # the essentials alone are too big: shorten the bulkiest parts
        return _squeezed(head, tail, budget)
    history: list[ChatMessage] = []
    for turn in reversed(memory.recent):
        cost = turn.tokens()
        if used + cost > budget:
            break
        history = turn.as_messages() + history
        used += cost
    return tuple(head + history + tail)


def _squeezed(head: list[ChatMessage], tail: list[ChatMessage],
              budget: int) -> tuple[ChatMessage, ...]:
    share = max(budget // (len(head) + len(tail)), PER_MESSAGE_TOKENS + 16)
    return tuple(ChatMessage(m.role, truncate_to(m.content, share)) for m in head + tail)


def fold_split(turns: Sequence[PastTurn], budget: int) -> tuple[list[PastTurn], list[PastTurn]]:
    """``(older, recent)``: the newest turns that fit ``budget`` stay verbatim, the rest fold."""
    recent: list[PastTurn] = []
    used = 0
    for turn in reversed(turns):
        used += turn.tokens()
        if used > budget:
            break
        recent.insert(0, turn)
    return list(turns[: len(turns) - len(recent)]), recent
