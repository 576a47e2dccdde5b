"""How the offline model uses tools, so the embedded default shows them working.

Deterministic rules, read from the request the engine really sends:

- First round of a step (no tool results yet):
  - ``read_file`` offered and files listed in the context → read each listed file (up to 3);
  - ``web_search`` offered and the message asks to search / for current facts → search it;
  - the message (or, later, a file) literally says to call ``web_search`` or ``read_file``
    → the model tries that tool *even when it is not offered*, the way a prompt-injected
    model would; the server refuses it, and the refusal shows in the step.
- With tool results in hand: answer from them — quoting the lines of each file most
  relevant to the question, listing the search results with their URLs, and saying
  plainly which tools were refused or failed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pantheon_adapters.llm.offline_text import LABEL, agent_name, trim, user_request
from pantheon_core.ports.chat_model import ChatMessage, ChatRequest, ToolCall

MAX_FILES = 3
QUOTES_PER_FILE = 3
_FILE_LINE = re.compile(r"^- (?P<id>\S+) — (?P<name>.+?) \((?P<kind>pdf|docx|txt|md|csv)",
                        re.MULTILINE)
_EXPLICIT = re.compile(r"\b(?:call|use|run|invoke)\s+(?:the\s+)?(?:tool\s+)?"
                       r"[`'\"]?(?P<tool>web_search|read_file)\b", re.IGNORECASE)
_SEARCHY = re.compile(r"\b(search|look up|latest|news|current|today|online|web)\b",
                      re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'-]{2,}")
_STOP_WORDS = ("the and for with that this what which from about into your you are was were "
               "have has how why when who does did can could would should there their them "
               "they our please tell give show file files document read")
_STOP = frozenset(_STOP_WORDS.split())


@dataclass(frozen=True, slots=True)
class _Listed:
    id: str
    name: str


def tool_calls_for(request: ChatRequest) -> tuple[ToolCall, ...]:
    """The calls the offline model makes at this point of the step (empty: answer now)."""
    messages = request.messages
    offered = {tool.name for tool in request.tools}
    made = _called(messages)
    results = [m for m in messages if m.role == "tool"]
    wanted: list[tuple[str, dict[str, object]]] = []
    if not results:
        question = user_request(messages)
        if "read_file" in offered:
            wanted += [("read_file", {"file_id": f.id}) for f in listed_files(messages)[:MAX_FILES]]
        if "web_search" in offered and _SEARCHY.search(question):
            wanted.append(("web_search", {"query": trim(question, 30)}))
        wanted += _explicit(question, question, offered)
    elif request.tools:  # a file or a result asked for a tool: fall for it once, visibly
        for result in results:
            wanted += _explicit(result.content, user_request(messages), offered=set())
    calls = [(name, args) for name, args in wanted if (name, _key(args)) not in made]
    unique = list(dict.fromkeys((name, json.dumps(args, sort_keys=True)) for name, args in calls))
    return tuple(ToolCall(id=_call_id(request, name, args), name=name, arguments=args)
                 for name, args in unique)


def _explicit(text: str, question: str, offered: set[str]) -> list[tuple[str, dict[str, object]]]:
    calls: list[tuple[str, dict[str, object]]] = []
    for found in _EXPLICIT.finditer(text):
        tool = found["tool"].lower()
        if tool in offered:
            continue  # already covered by the ordinary rules
        calls.append((tool, {"query": trim(question, 30)} if tool == "web_search"
                      else {"file_id": "any"}))
    return calls


def _key(args: dict[str, object]) -> str:
    return json.dumps(args, sort_keys=True)


def _called(messages: Sequence[ChatMessage]) -> set[tuple[str, str]]:
    made: set[tuple[str, str]] = set()
    for message in messages:
        for call in message.tool_calls:
            try:
                args = json.loads(call.arguments)
            except json.JSONDecodeError:
                args = {}
            made.add((call.name, _key(args if isinstance(args, dict) else {})))
    return made


def _call_id(request: ChatRequest, name: str, arguments: str) -> str:
    digest = hashlib.sha256(f"{len(request.messages)}|{name}|{arguments}".encode())
    return f"call_{digest.hexdigest()[:16]}"


def listed_files(messages: Sequence[ChatMessage]) -> list[_Listed]:
    for message in messages:
        if message.role == "system" and "read_file" in message.content:
            return [_Listed(m["id"], m["name"]) for m in _FILE_LINE.finditer(message.content)]
    return []


def answer_from_tools(messages: Sequence[ChatMessage]) -> str:
    """An answer built from this step's tool results (the engine's tool messages)."""
    name, question = agent_name(messages), user_request(messages)
    lines = [f"{LABEL}I am {name}. You asked: “{trim(question, 20)}”"]
    for result in (m for m in messages if m.role == "tool"):
        lines += _from_result(result, question)
    return "\n".join(lines)


def _from_result(result: ChatMessage, question: str) -> list[str]:
    text = result.content
    if text.startswith("Refused:"):
        return [f"- I could not use {result.name}: {trim(text[len('Refused:'):], 30)}"]
    if text.startswith("The tool "):
        return [f"- {result.name} failed: {trim(text, 30)}"]
    if result.name == "web_search":
        hits = re.findall(r"^\[(\d+)\] (.+?) — (\S+)$", text, re.MULTILINE)
        if not hits:
            return ["- The web search found nothing useful."]
        return ["From the web:"] + [f"- {title} ({url})" for _, title, url in hits[:3]]
    header, _, body = text.partition(":\n\n")
    source = re.search(r"File (.+?) \((?:pdf|docx|txt|md|csv)\)", header)
    label = source.group(1) if source else "the file"
    quotes = relevant_lines(body.split("\n\n[More text follows")[0], question)
    return [f"From {label}:"] + [f"- “{trim(q, 40)}”" for q in quotes]


def relevant_lines(text: str, question: str) -> list[str]:
    """Up to three lines of ``text`` sharing the most words with ``question``, in order."""
    wanted = {w.lower() for w in _WORD.findall(question)} - _STOP
    candidates = [line.strip() for line in re.split(r"\n+|(?<=[.!?])\s+", text) if line.strip()]
    scored = [(len(wanted & {w.lower() for w in _WORD.findall(line)}), i)
              for i, line in enumerate(candidates)]
    best = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))[:QUOTES_PER_FILE]
    chosen = sorted(i for _, i in best) or list(range(min(QUOTES_PER_FILE, len(candidates))))
    return [candidates[i] for i in chosen] or ["(the file has no text)"]
